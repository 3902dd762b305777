package main

// The layer kernels besides the matrices: attention over the KV cache,
// RoPE and RMSNorm's scaling, each the AVX2 twin of a Go loop.

// addScaled emits addScaled<T>AVX2: dst[i] += float32(a*x[i]) for the
// first 8*n8 values, x of weight type d converted exactly to float32:
// VMULPS then VADDPS, never fused, so every element is the Go loop's.
func (g *gen) addScaled(d dtype) {
	g.p("// func addScaled%sAVX2(dst *float32, x *%s, n8 int, a float32)", d.name, d.goT)
	g.p("TEXT ·addScaled%sAVX2(SB), NOSPLIT, $0-28", d.name)
	g.p("\tMOVQ dst+0(FP), DI")
	g.p("\tMOVQ x+8(FP), SI")
	g.p("\tMOVQ n8+16(FP), CX")
	g.p("\tVBROADCASTSS a+24(FP), Y0")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\t%s", d.loadTo("(SI)", "Y1"))
	g.p("\tVMULPS Y0, Y1, Y1")
	g.p("\tVADDPS (DI), Y1, Y1")
	g.p("\tVMOVUPS Y1, (DI)")
	g.p("\tADDQ $%d, SI", 8*d.size)
	g.p("\tADDQ $32, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

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
