package main

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
