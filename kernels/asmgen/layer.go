package main

import "fmt"

// The layer kernels besides the matrices: RoPE, RMSNorm's scaling and the
// weighted sum of attention's values, each the AVX2 twin of a Go loop.

// rope emits ropeAVX2: RoPE for the first 8*h8 pairs of each of heads
// heads of 2*h values: lo' = a*cos - b*sin and hi' = b*cos + a*sin with
// every product rounded (VMULPS, then VSUBPS or VADDPS), as ropeGo.
func (g *gen) rope() {
	g.p("// func ropeAVX2(x, cos, sin *float32, h8, h, heads int)")
	g.p("TEXT ·ropeAVX2(SB), NOSPLIT, $0-48")
	g.p("\tMOVQ x+0(FP), DI")
	g.p("\tMOVQ h+32(FP), R8")
	g.p("\tSHLQ $2, R8") // bytes from lo to hi
	g.p("\tMOVQ heads+40(FP), DX")
	g.p("\tTESTQ DX, DX")
	g.p("\tJZ done")
	g.p("head:")
	g.p("\tMOVQ cos+8(FP), SI")
	g.p("\tMOVQ sin+16(FP), BX")
	g.p("\tMOVQ h8+24(FP), CX")
	g.p("\tMOVQ DI, AX")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ next")
	g.p("loop:")
	g.p("\tVMOVUPS (AX), Y0")       // a
	g.p("\tVMOVUPS (AX)(R8*1), Y1") // b
	g.p("\tVMOVUPS (SI), Y2")       // cos
	g.p("\tVMOVUPS (BX), Y3")       // sin
	g.p("\tVMULPS Y2, Y0, Y4")      // a*cos
	g.p("\tVMULPS Y3, Y1, Y5")      // b*sin
	g.p("\tVSUBPS Y5, Y4, Y4")      // a*cos - b*sin
	g.p("\tVMULPS Y2, Y1, Y6")      // b*cos
	g.p("\tVMULPS Y3, Y0, Y7")      // a*sin
	g.p("\tVADDPS Y7, Y6, Y6")      // b*cos + a*sin
	g.p("\tVMOVUPS Y4, (AX)")
	g.p("\tVMOVUPS Y6, (AX)(R8*1)")
	g.p("\tADDQ $32, AX")
	g.p("\tADDQ $32, SI")
	g.p("\tADDQ $32, BX")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("next:")
	g.p("\tLEAQ (DI)(R8*2), DI")
	g.p("\tDECQ DX")
	g.p("\tJNZ head")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// rmsScale emits rmsScaleAVX2: out[i] = w[i] * float32(x[i]*inv) for the
// first 8*n8 values, two roundings as in rmsScaleGo.
func (g *gen) rmsScale() {
	g.p("// func rmsScaleAVX2(out, x, w *float32, n8 int, inv float32)")
	g.p("TEXT ·rmsScaleAVX2(SB), NOSPLIT, $0-36")
	g.p("\tMOVQ out+0(FP), DI")
	g.p("\tMOVQ x+8(FP), SI")
	g.p("\tMOVQ w+16(FP), BX")
	g.p("\tMOVQ n8+24(FP), CX")
	g.p("\tVBROADCASTSS inv+32(FP), Y0")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\tVMULPS (SI), Y0, Y1")
	g.p("\tVMULPS (BX), Y1, Y1")
	g.p("\tVMOVUPS Y1, (DI)")
	for _, r := range []string{"DI", "SI", "BX"} {
		g.p("\tADDQ $32, %s", r)
	}
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// weightedSum emits weightedSum<T>x<k>AVX2: dst[e] = sum over j < n, in
// increasing j, of float32(w[j]*row_j[e]) for the 8*k values e of dst,
// each row stride elements after the one before, starting from +0 (VMULPS
// then VADDPS, never fused), as weightedSumGo. The k accumulators stay in
// registers for all n rows.
func (g *gen) weightedSum(d dtype, k int) {
	name := fmt.Sprintf("weightedSum%sx%dAVX2", d.name, k)
	g.p("// func %s(dst *float32, w *float32, rows *%s, n, stride int)", name, d.goT)
	g.p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	g.p("\tMOVQ w+8(FP), BX")
	g.p("\tMOVQ rows+16(FP), SI")
	g.p("\tMOVQ n+24(FP), CX")
	g.p("\tMOVQ stride+32(FP), R8")
	g.p("\tSHLQ $%d, R8", map[int]int{2: 1, 4: 2}[d.size])
	for a := range k {
		g.p("\tVXORPS Y%d, Y%d, Y%d", a, a, a)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\tVBROADCASTSS (BX), Y15")
	for a := range k {
		g.p("\t%s", d.loadTo(fmt.Sprintf("%d(SI)", 8*d.size*a), fmt.Sprintf("Y%d", 4+a)))
		g.p("\tVMULPS Y15, Y%d, Y%d", 4+a, 4+a)
		g.p("\tVADDPS Y%d, Y%d, Y%d", 4+a, a, a)
	}
	g.p("\tADDQ $4, BX")
	g.p("\tADDQ R8, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tMOVQ dst+0(FP), DI")
	for a := range k {
		g.p("\tVMOVUPS Y%d, %d(DI)", a, 32*a)
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}
