package main

import "fmt"

// q8MaxTokens is the most vectors one Q8 kernel takes (kernels.q8Tokens):
// eight rows' worth of weights in Z0-Z7, the scales in Z8, a temporary in
// Z9, then one float32 accumulator (Z16+t) and one integer accumulator
// (Z24+t) per vector.
const q8MaxTokens = 8

// q8Prefetch is how far ahead, in bytes, the one-vector kernel (decode)
// prefetches the group's weights, all eight lines of a block: on a
// Sapphire Rapids VM, 2 threads, SmolLM2-135M-shaped q8 decode went from
// ~181 to ~201 tok/s (4096: ~190).
const q8Prefetch = 16384

// q8Group emits q8g<T>VNNI, the AVX-512 VNNI twin of kernels.q8GroupGo for
// T vectors: sixteen rows of one row group, one per 32-bit lane.
//
// Per block: the eight 64-byte quads of the group's weights (unsigned,
// value+128) are loaded once; for each vector the integer accumulator
// starts at the block's correction (-128 times the vector block's sum),
// eight VPDPBUSD add the products of the sixteen rows' quads with the
// vector's quads (broadcast from memory), which leaves the exact block
// sums s; then VCVTDQ2PS (exact, |s| < 2^24), d = ws*xs with VMULPS, s*d
// with VMULPS and acc + s*d with VADDPS: the reference's float32 steps, in
// its order, never fused.
func (g *gen) q8Group(tokens int) {
	name := fmt.Sprintf("q8g%dVNNI", tokens)
	g.p("// func %s(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-72", name)
	g.p("\tMOVQ w+16(FP), SI")
	g.p("\tMOVQ ws+24(FP), DX")
	g.p("\tMOVQ x+32(FP), AX")
	g.p("\tMOVQ xc+40(FP), BX")
	g.p("\tMOVQ xs+48(FP), R9")
	g.p("\tMOVQ nb+56(FP), CX")
	g.p("\tMOVQ n+64(FP), R11")
	g.p("\tMOVQ R11, R12")
	g.p("\tSHLQ $5, R11") // bytes from one block of the vectors to the next
	g.p("\tSHLQ $2, R12") // the same for their scales and corrections
	for t := range tokens {
		g.p("\tVPXORD Z%d, Z%d, Z%d", 16+t, 16+t, 16+t)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	for q := range 8 {
		g.p("\tVMOVDQU32 %d(SI), Z%d", 64*q, q)
	}
	g.p("\tVMOVUPS (DX), Z8")
	if tokens == 1 { // decode: stream the weights ahead (see q8Prefetch)
		for q := range 8 {
			g.p("\tPREFETCHT0 %d(SI)", q8Prefetch+64*q)
		}
	}
	for t := range tokens {
		acc, sum := 16+t, 24+t
		g.p("\tVPBROADCASTD %d(BX), Z%d", 4*t, sum)
		for q := range 8 {
			g.p("\tVPDPBUSD.BCST %d(AX), Z%d, Z%d", 32*t+4*q, q, sum)
		}
		g.p("\tVCVTDQ2PS Z%d, Z%d", sum, sum)
		g.p("\tVMULPS.BCST %d(R9), Z8, Z9", 4*t)
		g.p("\tVMULPS Z9, Z%d, Z%d", sum, sum)
		g.p("\tVADDPS Z%d, Z%d, Z%d", sum, acc, acc)
	}
	g.p("\tADDQ $512, SI")
	g.p("\tADDQ $64, DX")
	g.p("\tADDQ R11, AX")
	g.p("\tADDQ R12, BX")
	g.p("\tADDQ R12, R9")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tMOVQ y+0(FP), DI")
	g.p("\tMOVQ ystride+8(FP), R8")
	g.p("\tSHLQ $2, R8")
	for t := range tokens {
		g.p("\tVMOVUPS Z%d, (DI)", 16+t)
		if t < tokens-1 {
			g.p("\tADDQ R8, DI")
		}
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// q8GroupAVX2 emits q8g1AVX2, the AVX2 twin of kernels.q8GroupGo for one
// vector (CPUs without AVX-512 VNNI). AVX2 has no saturation-free byte
// dot product (VPMADDUBSW saturates), so each 16-byte piece of a quad row
// (four rows' quads) is widened with VPMOVZXBW and multiplied by the
// vector's quad, widened with VPMOVSXBW, with VPMADDWD: two exact products
// per 32-bit lane. Per block the four accumulators hold two partial sums
// per row; VPHADDD and VPERMQ turn them into the sixteen rows' sums in
// order, the correction is added, and the float32 steps are those of the
// VNNI kernel. Every integer step is exact, so the sums are the same.
func (g *gen) q8GroupAVX2() {
	g.p("// func q8g1AVX2(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)")
	g.p("TEXT ·q8g1AVX2(SB), NOSPLIT, $0-72")
	g.p("\tMOVQ w+16(FP), SI")
	g.p("\tMOVQ ws+24(FP), DX")
	g.p("\tMOVQ x+32(FP), AX")
	g.p("\tMOVQ xc+40(FP), BX")
	g.p("\tMOVQ xs+48(FP), R9")
	g.p("\tMOVQ nb+56(FP), CX")
	g.p("\tMOVQ n+64(FP), R11")
	g.p("\tMOVQ R11, R12")
	g.p("\tSHLQ $5, R11")
	g.p("\tSHLQ $2, R12")
	g.p("\tVXORPS Y8, Y8, Y8")
	g.p("\tVXORPS Y9, Y9, Y9")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	for a := range 4 {
		g.p("\tVPXOR Y%d, Y%d, Y%d", a, a, a)
	}
	for q := range 8 {
		g.p("\tVPBROADCASTD %d(AX), X5", 4*q)
		g.p("\tVPMOVSXBW X5, Y5")
		for r := range 4 {
			tmp := 4 + 2*(r%2) // Y4 or Y6
			g.p("\tVPMOVZXBW %d(SI), Y%d", 64*q+16*r, tmp)
			g.p("\tVPMADDWD Y5, Y%d, Y%d", tmp, tmp)
			g.p("\tVPADDD Y%d, Y%d, Y%d", tmp, r, r)
		}
	}
	g.p("\tVPHADDD Y1, Y0, Y0") // rows 0 1 4 5 | 2 3 6 7
	g.p("\tVPERMQ $0xd8, Y0, Y0")
	g.p("\tVPHADDD Y3, Y2, Y2")
	g.p("\tVPERMQ $0xd8, Y2, Y2")
	g.p("\tVPBROADCASTD (BX), Y11")
	g.p("\tVPADDD Y11, Y0, Y0")
	g.p("\tVPADDD Y11, Y2, Y2")
	g.p("\tVCVTDQ2PS Y0, Y0")
	g.p("\tVCVTDQ2PS Y2, Y2")
	g.p("\tVBROADCASTSS (R9), Y10")
	g.p("\tVMULPS (DX), Y10, Y12")
	g.p("\tVMULPS 32(DX), Y10, Y13")
	g.p("\tVMULPS Y12, Y0, Y0")
	g.p("\tVMULPS Y13, Y2, Y2")
	g.p("\tVADDPS Y0, Y8, Y8")
	g.p("\tVADDPS Y2, Y9, Y9")
	g.p("\tADDQ $512, SI")
	g.p("\tADDQ $64, DX")
	g.p("\tADDQ R11, AX")
	g.p("\tADDQ R12, BX")
	g.p("\tADDQ R12, R9")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tMOVQ y+0(FP), DI")
	g.p("\tVMOVUPS Y8, (DI)")
	g.p("\tVMOVUPS Y9, 32(DI)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// q8Quant emits q8QuantAVX512, the AVX-512 twin of q8Acts.quantize for
// nb whole blocks of one vector: per block amax as the largest |x| bit
// pattern (VPMAXUD orders them like q8Scale), d = amax/127 with VDIVSS,
// q = clamp(RoundToEven(x/d)) with VDIVPS, VRNDSCALEPS (to nearest even),
// VMINPS and VMAXPS, all exact or correctly rounded like the Go code; the
// block's sum (for the correction -128*sum) from the int32 values, which
// VPMOVDB then stores as bytes. A block holding a NaN or an infinity gets
// zero values, the scale NaN (0x7fc00000) and no correction, one of all
// zeros zero values and scale 0, as in Go.
func (g *gen) q8Quant() {
	g.p("// func q8QuantAVX512(x *float32, nb int, q *int8, s *float32, c *int32, n int)")
	g.p("TEXT ·q8QuantAVX512(SB), NOSPLIT, $0-48")
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ nb+8(FP), CX")
	g.p("\tMOVQ q+16(FP), DI")
	g.p("\tMOVQ s+24(FP), R9")
	g.p("\tMOVQ c+32(FP), R10")
	g.p("\tMOVQ n+40(FP), R11")
	g.p("\tMOVQ R11, R12")
	g.p("\tSHLQ $5, R11") // bytes from one block of q to the next
	g.p("\tSHLQ $2, R12") // the same for s and c
	g.p("\tMOVL $0x7fffffff, AX")
	g.p("\tVPBROADCASTD AX, Z13") // |x| mask
	g.p("\tMOVL $0x42fe0000, AX")
	g.p("\tVPBROADCASTD AX, Z14") // 127
	g.p("\tMOVL $0xc2fe0000, AX")
	g.p("\tVPBROADCASTD AX, Z15") // -127
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\tVMOVUPS (SI), Z0")
	g.p("\tVMOVUPS 64(SI), Z1")
	g.p("\tVPANDD Z13, Z0, Z2")
	g.p("\tVPANDD Z13, Z1, Z3")
	g.p("\tVPMAXUD Z3, Z2, Z2")
	g.p("\tVEXTRACTI64X4 $1, Z2, Y3")
	g.p("\tVPMAXUD Y3, Y2, Y2")
	g.p("\tVEXTRACTI128 $1, Y2, X3")
	g.p("\tVPMAXUD X3, X2, X2")
	g.p("\tVPSHUFD $0x4e, X2, X3")
	g.p("\tVPMAXUD X3, X2, X2")
	g.p("\tVPSHUFD $0xb1, X2, X3")
	g.p("\tVPMAXUD X3, X2, X2") // lane 0: amax
	g.p("\tVPEXTRD $0, X2, AX")
	g.p("\tCMPL AX, $0x7f800000")
	g.p("\tJAE nonfinite")
	g.p("\tTESTL AX, AX")
	g.p("\tJZ zero")
	g.p("\tVDIVSS X14, X2, X2") // d = amax/127
	g.p("\tVMOVSS X2, (R9)")
	g.p("\tVBROADCASTSS X2, Z2")
	for _, r := range []int{0, 1} {
		g.p("\tVDIVPS Z2, Z%d, Z%d", r, r)
		g.p("\tVRNDSCALEPS $0, Z%d, Z%d", r, r)
		g.p("\tVMINPS Z14, Z%d, Z%d", r, r)
		g.p("\tVMAXPS Z15, Z%d, Z%d", r, r)
		g.p("\tVCVTPS2DQ Z%d, Z%d", r, r)
	}
	g.p("\tVPMOVDB Z0, (DI)")
	g.p("\tVPMOVDB Z1, 16(DI)")
	g.p("\tVPADDD Z1, Z0, Z0")
	g.p("\tVEXTRACTI64X4 $1, Z0, Y1")
	g.p("\tVPADDD Y1, Y0, Y0")
	g.p("\tVEXTRACTI128 $1, Y0, X1")
	g.p("\tVPADDD X1, X0, X0")
	g.p("\tVPSHUFD $0x4e, X0, X1")
	g.p("\tVPADDD X1, X0, X0")
	g.p("\tVPSHUFD $0xb1, X0, X1")
	g.p("\tVPADDD X1, X0, X0")
	g.p("\tVPEXTRD $0, X0, AX")
	g.p("\tIMULL $-128, AX")
	g.p("\tMOVL AX, (R10)")
	g.p("\tJMP next")
	g.p("nonfinite:")
	g.p("\tMOVL $0x7fc00000, (R9)")
	g.p("\tJMP clear")
	g.p("zero:")
	g.p("\tMOVL $0, (R9)")
	g.p("clear:")
	g.p("\tVPXORD Y0, Y0, Y0")
	g.p("\tVMOVDQU Y0, (DI)")
	g.p("\tMOVL $0, (R10)")
	g.p("next:")
	g.p("\tADDQ $128, SI")
	g.p("\tADDQ R11, DI")
	g.p("\tADDQ R12, R9")
	g.p("\tADDQ R12, R10")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}
