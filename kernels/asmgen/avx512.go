package main

// The AVX-512 matrix-matrix kernels, written to kernels_avx512_amd64.s.
//
// One ZMM register holds the eight lanes of TWO canonical dot products in
// its two 256-bit halves: rows 2r and 2r+1 of a block against the same
// vector. The weights of a block of mmRows rows are first converted to
// float32 and packed by the Go caller (packRow*), chunk by chunk, so that
// each ZMM load gives [row 2r chunk j | row 2r+1 chunk j]; the vector's
// chunk j is broadcast into both halves (VBROADCASTF32X8). Each VMULPS
// then VADDPS adds sixteen products to two dot products, lane for lane
// exactly what the eight-lane reference adds, in the same order: the
// AVX2 kernels' mm3x4 does eight per pair of instructions.
//
// A block is mmPairs ZMM rows (mmRows rows) by up to mmToks vectors, so
// up to mmPairs*mmToks = 24 accumulators, plus three weight registers,
// two broadcast vectors and three products: 32 registers at most.
//
// As in the AVX2 kernels, columns past the last full chunk of eight are
// one more chunk that the caller zero-pads: for the weights in the packed
// block, for the vectors in xt (eight floats per vector).

import "fmt"

// mmPairs is how many ZMM registers of two rows a block holds, and mmToks
// the most vectors one kernel call takes. stubs_avx512_amd64.go uses the
// same numbers (mmRows = 2*mmPairs, mmToks).
const (
	mmPairs = 3
	mmToks  = 8
)

// packRow emits packRow<d>: n8 chunks of eight weights of one row,
// converted to float32, chunk j stored at dst + j*dstep floats.
func (g *gen) packRow(d dtype) {
	g.p("// func packRow%s(dst *float32, dstep int, src *%s, n8 int)", d.name, d.goT)
	g.p("TEXT ·packRow%s(SB), NOSPLIT, $0-32", d.name)
	g.p("\tMOVQ dst+0(FP), DI")
	g.p("\tMOVQ dstep+8(FP), DX")
	g.p("\tSHLQ $2, DX")
	g.p("\tMOVQ src+16(FP), SI")
	g.p("\tMOVQ n8+24(FP), CX")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\t%s", d.loadTo("(SI)", "Y0"))
	g.p("\tVMOVUPS Y0, (DI)")
	g.p("\tADDQ $%d, SI", 8*d.size)
	g.p("\tADDQ DX, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// reduce2 stores the canonical reductions of both halves of ZMM register
// n: the low half's to lo, the high half's to hi, using Z<s> as scratch.
// Each 128-bit quarter of Zn is [l0..l3] or [l4..l7] of one half; the adds
// are those of gen.reduce, done for both halves at once.
func (g *gen) reduce2(n, s int, lo, hi string) {
	z, sz := fmt.Sprintf("Z%d", n), fmt.Sprintf("Z%d", s)
	g.p("\tVSHUFF32X4 $0xf5, %s, %s, %s", z, z, sz) // quarters [q1 q1 q3 q3]
	g.p("\tVADDPS %s, %s, %s", sz, z, z)            // a = [l0+l4, l1+l5, l2+l6, l3+l7] per half
	g.p("\tVPERMILPS $0x0e, %s, %s", z, sz)         // [a2, a3, ...] per quarter
	g.p("\tVADDPS %s, %s, %s", sz, z, z)            // [a0+a2, a1+a3, ...]
	g.p("\tVMOVSHDUP %s, %s", z, sz)                // [a1+a3, ...]
	g.p("\tVADDPS %s, %s, %s", sz, z, z)            // (a0+a2) + (a1+a3)
	g.p("\tVMOVSS X%d, %s", n, lo)
	g.p("\tVEXTRACTF32X4 $2, %s, X%d", z, s)
	g.p("\tVMOVSS X%d, %s", s, hi)
}

// mm emits mm6x<nt>AVX512: the mmRows rows packed at wp against nt
// vectors, y[t*ystride+i] = dot(row i, vector t).
//
// Registers: Z(mmPairs*t+r) accumulates row pair r and vector t; Z24-Z25
// hold broadcast vectors, Z26-Z28 the weight pairs, Z29-Z31 products.
// Each full chunk also prefetches one cache line at pf, pf+64, ...: the
// caller points it at the weights it will pack next, which would
// otherwise come from memory while no arithmetic runs. A prefetch never
// faults.
func (g *gen) mm(nt int) {
	name := fmt.Sprintf("mm%dx%dAVX512", 2*mmPairs, nt)
	g.p("// func %s(y *float32, ystride int, wp *float32, x *float32, xstride int, n8 int, xt *float32, pf uintptr)", name)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-64", name)
	g.p("\tMOVQ wp+16(FP), SI")
	g.p("\tMOVQ x+24(FP), DI")
	g.p("\tMOVQ xstride+32(FP), R10")
	g.p("\tSHLQ $2, R10")
	g.p("\tLEAQ (R10)(R10*2), R11")
	g.p("\tLEAQ (DI)(R10*4), DX")
	g.p("\tMOVQ n8+40(FP), CX")
	g.p("\tMOVQ pf+56(FP), R12")
	for a := range mmPairs * nt {
		g.p("\tVPXORD Z%d, Z%d, Z%d", a, a, a)
	}
	vecAddr := []string{"(DI)", "(DI)(R10*1)", "(DI)(R10*2)", "(DI)(R11*1)", "(DX)", "(DX)(R10*1)", "(DX)(R10*2)", "(DX)(R11*1)"}
	body := func() {
		for r := range mmPairs {
			g.p("\tVMOVUPS %d(SI), Z%d", 64*r, 26+r)
		}
		for t := range nt {
			xr := 24 + t%2
			g.p("\tVBROADCASTF32X8 %s, Z%d", vecAddr[t], xr)
			for r := range mmPairs {
				g.p("\tVMULPS Z%d, Z%d, Z%d", 26+r, xr, 29+r)
				g.p("\tVADDPS Z%d, Z%d, Z%d", 29+r, mmPairs*t+r, mmPairs*t+r)
			}
		}
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ tail")
	g.p("loop:")
	g.p("\tPREFETCHT0 (R12)")
	body()
	g.p("\tADDQ $64, R12")
	g.p("\tADDQ $%d, SI", 64*mmPairs)
	g.p("\tADDQ $32, DI")
	g.p("\tADDQ $32, DX")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("tail:")
	// SI is at the packed tail chunk; the vectors' tails are packed in xt,
	// eight floats apart.
	g.p("\tMOVQ xt+48(FP), DI")
	g.p("\tTESTQ DI, DI")
	g.p("\tJZ done")
	g.p("\tMOVQ $32, R10")
	g.p("\tMOVQ $96, R11")
	g.p("\tLEAQ 128(DI), DX")
	body()
	g.p("done:")
	g.p("\tMOVQ y+0(FP), AX")
	g.p("\tMOVQ ystride+8(FP), R10")
	g.p("\tSHLQ $2, R10")
	for t := range nt {
		for r := range mmPairs {
			g.reduce2(mmPairs*t+r, 24+r%2, fmt.Sprintf("%d(AX)", 8*r), fmt.Sprintf("%d(AX)", 8*r+4))
		}
		if t < nt-1 {
			g.p("\tADDQ R10, AX")
		}
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}
