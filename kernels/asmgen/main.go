// Command asmgen writes kernels/kernels_amd64.s, the AVX2 twins of the
// pure-Go row kernels. Run it with `go generate ./kernels/` after changing
// it; the file it writes is committed.
//
// Every kernel computes the canonical dot product of package kernels
// exactly: one YMM register is the eight lanes of one dot product, each
// chunk of eight columns adds VMULPS products to it with VADDPS (never
// VFMADD, whose single rounding would change the bits), and the lanes are
// reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)). A column count that is
// not a multiple of eight leaves a tail that the Go caller converts to
// float32 and zero-pads into small buffers (wt, xt); the kernel adds it as
// one more chunk, which is exactly the reference's zero padding.
package main

import (
	"bytes"
	"fmt"
	"log"
	"math"
	"os"
	"strings"
)

// dtype describes how one weight type is loaded as eight float32 values.
type dtype struct {
	name string // F32, F16, BF16
	goT  string // Go element type of the weight pointer, for comments
	size int    // bytes per weight
	load string // format of the load+convert of eight weights: %[1]s address, %[2]s destination YMM
}

var dtypes = []dtype{
	{"F32", "float32", 4, "VMOVUPS %[1]s, %[2]s"},
	{"F16", "uint16", 2, "VCVTPH2PS %[1]s, %[2]s"},
	{"BF16", "uint16", 2, "VPMOVZXWD %[1]s, %[2]s\n\tVPSLLD $16, %[2]s, %[2]s"},
}

type gen struct{ bytes.Buffer }

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, format+"\n", args...) }

// reduce stores the canonical reduction of the lanes in register n to dst,
// using X13 and X14 as scratch.
func (g *gen) reduce(n int, dst string) {
	x := fmt.Sprintf("X%d", n)
	g.p("\tVEXTRACTF128 $1, Y%d, X13", n)
	g.p("\tVADDPS X13, %s, %s", x, x)   // a = [l0+l4, l1+l5, l2+l6, l3+l7]
	g.p("\tVMOVHLPS %s, %s, X14", x, x) // X14 = [a2, a3, ...]
	g.p("\tVADDPS X14, %s, %s", x, x)   // [a0+a2, a1+a3, ...]
	g.p("\tVMOVSHDUP %s, X14", x)       // X14[0] = a1+a3
	g.p("\tVADDSS X14, %s, %s", x, x)   // (a0+a2) + (a1+a3)
	g.p("\tVMOVSS %s, %s", x, dst)
}

func (d dtype) loadTo(addr, reg string) string { return fmt.Sprintf(d.load, addr, reg) }

// dot1 computes one row.
func (g *gen) dot1(d dtype) {
	g.p("// func dot1%sAVX2(w *%s, x *float32, n8 int, wt, xt *float32) float32", d.name, d.goT)
	g.p("TEXT ·dot1%sAVX2(SB), NOSPLIT, $0-44", d.name)
	g.p("\tMOVQ w+0(FP), SI")
	g.p("\tMOVQ x+8(FP), DI")
	g.p("\tMOVQ n8+16(FP), CX")
	g.p("\tVXORPS Y0, Y0, Y0")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ tail")
	g.p("loop:")
	g.p("\t%s", d.loadTo("(SI)", "Y1"))
	g.p("\tVMULPS (DI), Y1, Y1")
	g.p("\tVADDPS Y1, Y0, Y0")
	g.p("\tADDQ $%d, SI", 8*d.size)
	g.p("\tADDQ $32, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("tail:")
	g.p("\tMOVQ wt+24(FP), SI")
	g.p("\tTESTQ SI, SI")
	g.p("\tJZ done")
	g.p("\tMOVQ xt+32(FP), DI")
	g.p("\tVMOVUPS (SI), Y1")
	g.p("\tVMULPS (DI), Y1, Y1")
	g.p("\tVADDPS Y1, Y0, Y0")
	g.p("done:")
	g.reduce(0, "ret+40(FP)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// rows4 computes four consecutive rows against one vector.
func (g *gen) rows4(d dtype) {
	g.p("// func rows4%sAVX2(y *float32, w *%s, stride int, x *float32, n8 int, wt, xt *float32)", d.name, d.goT)
	g.p("TEXT ·rows4%sAVX2(SB), NOSPLIT, $0-56", d.name)
	g.p("\tMOVQ w+8(FP), SI")
	g.p("\tMOVQ stride+16(FP), R8")
	g.p("\tSHLQ $%d, R8", map[int]int{2: 1, 4: 2}[d.size])
	g.p("\tLEAQ (R8)(R8*2), R9")
	g.p("\tMOVQ x+24(FP), DI")
	g.p("\tMOVQ n8+32(FP), CX")
	for r := range 4 {
		g.p("\tVXORPS Y%d, Y%d, Y%d", r, r, r)
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ tail")
	g.p("loop:")
	g.p("\tVMOVUPS (DI), Y4")
	rowAddr := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)"}
	for r := range 4 {
		g.p("\tPREFETCHT0 %d%s", rowPrefetch, rowAddr[r])
	}
	for r := range 4 {
		g.p("\t%s", d.loadTo(rowAddr[r], fmt.Sprintf("Y%d", 5+r)))
	}
	for r := range 4 {
		g.p("\tVMULPS Y4, Y%d, Y%d", 5+r, 5+r)
	}
	for r := range 4 {
		g.p("\tVADDPS Y%d, Y%d, Y%d", 5+r, r, r)
	}
	g.p("\tADDQ $%d, SI", 8*d.size)
	g.p("\tADDQ $32, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("tail:")
	g.p("\tMOVQ wt+40(FP), SI")
	g.p("\tTESTQ SI, SI")
	g.p("\tJZ done")
	g.p("\tMOVQ xt+48(FP), DI")
	g.p("\tVMOVUPS (DI), Y4")
	for r := range 4 {
		g.p("\tVMULPS %d(SI), Y4, Y%d", 32*r, 5+r)
	}
	for r := range 4 {
		g.p("\tVADDPS Y%d, Y%d, Y%d", 5+r, r, r)
	}
	g.p("done:")
	g.p("\tMOVQ y+0(FP), DX")
	for r := range 4 {
		g.reduce(r, fmt.Sprintf("%d(DX)", 4*r))
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// mm3x4 computes three rows against four vectors: twelve dot products,
// each weight chunk converted once and used four times.
func (g *gen) mm3x4(d dtype) {
	g.p("// func mm3x4%sAVX2(y *float32, ystride int, w *%s, wstride int, x *float32, xstride int, n8 int, wt, xt *float32)", d.name, d.goT)
	g.p("TEXT ·mm3x4%sAVX2(SB), NOSPLIT, $0-72", d.name)
	g.p("\tMOVQ w+16(FP), SI")
	g.p("\tMOVQ wstride+24(FP), R8")
	g.p("\tSHLQ $%d, R8", map[int]int{2: 1, 4: 2}[d.size])
	g.p("\tMOVQ x+32(FP), DI")
	g.p("\tMOVQ xstride+40(FP), R10")
	g.p("\tSHLQ $2, R10")
	g.p("\tLEAQ (R10)(R10*2), R11")
	g.p("\tMOVQ n8+48(FP), CX")
	for a := range 12 {
		g.p("\tVXORPS Y%d, Y%d, Y%d", a, a, a)
	}
	rowAddr := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)"}
	tokAddr := []string{"(DI)", "(DI)(R10*1)", "(DI)(R10*2)", "(DI)(R11*1)"}
	body := func(loadRow func(r int)) {
		for r := range 3 {
			loadRow(r)
			for t := range 4 {
				tmp := 13 + t%2
				g.p("\tVMULPS %s, Y12, Y%d", tokAddr[t], tmp)
				g.p("\tVADDPS Y%d, Y%d, Y%d", tmp, 4*r+t, 4*r+t)
			}
		}
	}
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ tail")
	g.p("loop:")
	body(func(r int) { g.p("\t%s", d.loadTo(rowAddr[r], "Y12")) })
	g.p("\tADDQ $%d, SI", 8*d.size)
	g.p("\tADDQ $32, DI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("tail:")
	g.p("\tMOVQ wt+56(FP), SI")
	g.p("\tTESTQ SI, SI")
	g.p("\tJZ done")
	// The tail buffers are packed: wt holds 3 rows of 8, xt 4 vectors of 8.
	g.p("\tMOVQ xt+64(FP), DI")
	g.p("\tMOVQ $32, R10")
	g.p("\tMOVQ $96, R11")
	body(func(r int) { g.p("\tVMOVUPS %d(SI), Y12", 32*r) })
	g.p("done:")
	g.p("\tMOVQ y+0(FP), DX")
	g.p("\tMOVQ ystride+8(FP), R10")
	g.p("\tSHLQ $2, R10")
	for t := range 4 {
		for r := range 3 {
			g.reduce(4*r+t, fmt.Sprintf("%d(DX)", 4*r))
		}
		if t < 3 {
			g.p("\tADDQ R10, DX")
		}
	}
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// expConsts are the constants of kernels.Exp, each stored as eight equal
// lanes in the read-only table expc<> (the same values, rounded to float32
// as the Go code rounds them; the tests compare the two bit for bit).
var expConsts = []struct {
	name string
	bits uint32
}{
	{"log2e", f32(1.44269504088896341)},
	{"round", f32(0x1.8p23)},
	{"ln2hi", f32(0.693359375)},
	{"ln2lo", f32(-2.12194440e-4)},
	{"p0", f32(1.9875691500e-4)},
	{"p1", f32(1.3981999507e-3)},
	{"p2", f32(8.3334519073e-3)},
	{"p3", f32(4.1665795894e-2)},
	{"p4", f32(1.6666665459e-1)},
	{"p5", f32(5.0000001201e-1)},
	{"one", f32(1)},
	{"over", f32(89)},
	{"under", f32(-104)},
	{"inf", 0x7f800000},
	{"sign", 0x80000000},
	{"i127", 127},
	{"im126", uint32(0xffffff82)}, // int32 -126
	{"im64", uint32(0xffffffc0)},  // int32 -64
}

func f32(v float64) uint32 { return math.Float32bits(float32(v)) }

// ec returns the address of constant name in the table.
func ec(name string) string {
	for i, c := range expConsts {
		if c.name == name {
			return fmt.Sprintf("expc<>+%d(SB)", 32*i)
		}
	}
	panic("unknown constant " + name)
}

func (g *gen) expTable() {
	for i, c := range expConsts {
		for l := range 8 {
			g.p("DATA expc<>+%d(SB)/4, $0x%08x", 32*i+4*l, c.bits)
		}
	}
	g.p("GLOBL expc<>(SB), RODATA|NOPTR, $%d", 32*len(expConsts))
	g.p("")
}

// exp writes Y1 = Exp(Y0) lane by lane, the exact operation sequence of
// kernels.Exp, using Y2-Y9 as scratch.
func (g *gen) exp() {
	g.p("	VMULPS %s, Y0, Y2", ec("log2e")) // t = x*log2e
	g.p("	VADDPS %s, Y2, Y2", ec("round"))
	g.p("	VSUBPS %s, Y2, Y2", ec("round")) // n = (t+R)-R
	g.p("	VMULPS %s, Y2, Y3", ec("ln2hi"))
	g.p("	VSUBPS Y3, Y0, Y3") // r = x - n*ln2Hi
	g.p("	VMULPS %s, Y2, Y4", ec("ln2lo"))
	g.p("	VSUBPS Y4, Y3, Y3") // r -= n*ln2Lo
	g.p("	VMULPS Y3, Y3, Y4") // z = r*r
	g.p("	VMULPS %s, Y3, Y1", ec("p0"))
	g.p("	VADDPS %s, Y1, Y1", ec("p1"))
	for _, c := range []string{"p2", "p3", "p4", "p5"} {
		g.p("	VMULPS Y3, Y1, Y1")
		g.p("	VADDPS %s, Y1, Y1", ec(c))
	}
	g.p("	VMULPS Y4, Y1, Y1")            // p*z
	g.p("	VADDPS Y3, Y1, Y1")            // + r
	g.p("	VADDPS %s, Y1, Y1", ec("one")) // + 1
	// scale2: b = n>127 ? n-127 : n<-126 ? -64 : 0; a = n-b.
	g.p("	VCVTTPS2DQ Y2, Y5")                     // n as int32
	g.p("	VPCMPGTD %s, Y5, Y6", ec("i127"))       // n > 127
	g.p("	VMOVDQU %s, Y7", ec("im126"))           //
	g.p("	VPCMPGTD Y5, Y7, Y7")                   // -126 > n
	g.p("	VPSUBD %s, Y5, Y8", ec("i127"))         // n-127
	g.p("	VPAND Y8, Y6, Y6")                      //
	g.p("	VPAND %s, Y7, Y7", ec("im64"))          //
	g.p("	VPOR Y7, Y6, Y6")                       // b
	g.p("	VPSUBD Y6, Y5, Y5")                     // a
	g.p("	VPADDD %s, Y5, Y5", ec("i127"))         //
	g.p("	VPSLLD $23, Y5, Y5")                    // 2^a
	g.p("	VPADDD %s, Y6, Y6", ec("i127"))         //
	g.p("	VPSLLD $23, Y6, Y6")                    // 2^b
	g.p("	VMULPS Y5, Y1, Y1")                     //
	g.p("	VMULPS Y6, Y1, Y1")                     //
	g.p("	VCMPPS $0x1e, %s, Y0, Y7", ec("over"))  // x > 89 (ordered)
	g.p("	VBLENDVPS Y7, %s, Y1, Y1", ec("inf"))   //
	g.p("	VCMPPS $0x11, %s, Y0, Y7", ec("under")) // x < -104 (ordered)
	g.p("	VANDNPS Y1, Y7, Y1")                    // 0 there
	g.p("	VCMPPS $3, Y0, Y0, Y7")                 // x is NaN
	g.p("	VBLENDVPS Y7, Y0, Y1, Y1")              // x there
}

// softmaxExp is softmaxExpGo over n8 chunks of eight: x[i] = Exp(x[i]-m),
// the lane sums stored to lanes[0..7].
func (g *gen) softmaxExp() {
	g.p("// func softmaxExpAVX2(x *float32, n8 int, m float32, lanes *float32)")
	g.p("TEXT ·softmaxExpAVX2(SB), NOSPLIT, $0-32")
	g.p("	MOVQ x+0(FP), SI")
	g.p("	MOVQ n8+8(FP), CX")
	g.p("	VBROADCASTSS m+16(FP), Y10")
	g.p("	VXORPS Y11, Y11, Y11")
	g.p("	TESTQ CX, CX")
	g.p("	JZ done")
	g.p("loop:")
	g.p("	VMOVUPS (SI), Y0")
	g.p("	VSUBPS Y10, Y0, Y0")
	g.exp()
	g.p("	VMOVUPS Y1, (SI)")
	g.p("	VADDPS Y1, Y11, Y11")
	g.p("	ADDQ $32, SI")
	g.p("	DECQ CX")
	g.p("	JNZ loop")
	g.p("done:")
	g.p("	MOVQ lanes+24(FP), DI")
	g.p("	VMOVUPS Y11, (DI)")
	g.p("	VZEROUPPER")
	g.p("	RET")
	g.p("")
}

// swiglu is swigluGo over n8 chunks of eight:
// out[i] = (g / (1 + Exp(-g))) * up[i].
func (g *gen) swiglu() {
	g.p("// func swigluAVX2(out, gate, up *float32, n8 int)")
	g.p("TEXT ·swigluAVX2(SB), NOSPLIT, $0-32")
	g.p("	MOVQ out+0(FP), DI")
	g.p("	MOVQ gate+8(FP), SI")
	g.p("	MOVQ up+16(FP), DX")
	g.p("	MOVQ n8+24(FP), CX")
	g.p("	TESTQ CX, CX")
	g.p("	JZ done")
	g.p("loop:")
	g.p("	VMOVUPS (SI), Y10")
	g.p("	VXORPS %s, Y10, Y0", ec("sign")) // -g
	g.exp()
	g.p("	VADDPS %s, Y1, Y1", ec("one")) // 1 + Exp(-g)
	g.p("	VDIVPS Y1, Y10, Y1")           // g / (...)
	g.p("	VMULPS (DX), Y1, Y1")          // * up
	g.p("	VMOVUPS Y1, (DI)")
	g.p("	ADDQ $32, SI")
	g.p("	ADDQ $32, DX")
	g.p("	ADDQ $32, DI")
	g.p("	DECQ CX")
	g.p("	JNZ loop")
	g.p("done:")
	g.p("	VZEROUPPER")
	g.p("	RET")
	g.p("")
}

// max returns the maximum of 8*n8 values, or NaN if one is NaN. VMAXPS
// alone would hide a NaN, so NaN lanes are collected separately.
func (g *gen) max() {
	g.p("// func maxAVX2(x *float32, n8 int) float32")
	g.p("TEXT ·maxAVX2(SB), NOSPLIT, $0-20")
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ n8+8(FP), CX")
	g.p("\tVMOVUPS (SI), Y0")
	g.p("\tVCMPPS $3, Y0, Y0, Y1")
	g.p("\tADDQ $32, SI")
	g.p("\tDECQ CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\tVMOVUPS (SI), Y2")
	g.p("\tVMAXPS Y2, Y0, Y0")
	g.p("\tVCMPPS $3, Y2, Y2, Y3")
	g.p("\tVORPS Y3, Y1, Y1")
	g.p("\tADDQ $32, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVEXTRACTF128 $1, Y0, X2")
	g.p("\tVMAXPS X2, X0, X0")
	g.p("\tVMOVHLPS X0, X0, X2")
	g.p("\tVMAXPS X2, X0, X0")
	g.p("\tVMOVSHDUP X0, X2")
	g.p("\tVMAXSS X2, X0, X0")
	g.p("\tVMOVMSKPS Y1, AX")
	g.p("\tTESTL AX, AX")
	g.p("\tJZ ret")
	g.p("\tVCMPPS $3, X0, X0, X0") // any NaN: return a NaN (all ones)
	g.p("ret:")
	g.p("\tVMOVSS X0, ret+16(FP)")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// div sets x[i] = x[i] / s for 8*n8 values.
func (g *gen) div() {
	g.p("// func divAVX2(x *float32, n8 int, s float32)")
	g.p("TEXT ·divAVX2(SB), NOSPLIT, $0-20")
	g.p("\tMOVQ x+0(FP), SI")
	g.p("\tMOVQ n8+8(FP), CX")
	g.p("\tVBROADCASTSS s+16(FP), Y1")
	g.p("\tTESTQ CX, CX")
	g.p("\tJZ done")
	g.p("loop:")
	g.p("\tVMOVUPS (SI), Y0")
	g.p("\tVDIVPS Y1, Y0, Y0")
	g.p("\tVMOVUPS Y0, (SI)")
	g.p("\tADDQ $32, SI")
	g.p("\tDECQ CX")
	g.p("\tJNZ loop")
	g.p("done:")
	g.p("\tVZEROUPPER")
	g.p("\tRET")
	g.p("")
}

// rowPrefetch is how far ahead, in bytes, the matrix-vector kernels
// (rows4*) prefetch each of their weight rows. Decode streams the whole
// model once per token from memory or a shared L3; the hardware
// prefetchers alone leave a thread well below the bandwidth it gets with
// this. Rows of a small model are shorter than the distance, so it reaches
// into the rows of the next calls, which is what helps: on a Sapphire
// Rapids VM, 2 threads, SmolLM2-135M-shaped decode went from 68 to 88
// tok/s (f16), 62 to 86 (bf16) and 44 to 51 (f32) when it grew from 2048
// to 16384 (8192: 82, 24576: 82 for f16), and 360M f32 from 19.6 to 21.2.
// A prefetch never faults, so running past the end of a matrix is
// harmless.
const rowPrefetch = 16384

func main() {
	write("kernels_amd64.s", func(g *gen) {
		for _, d := range dtypes {
			g.dot1(d)
			g.rows4(d)
			g.mm3x4(d)
		}
		g.expTable()
		g.softmaxExp()
		g.max()
		g.div()
		g.swiglu()
		g.rope()
		for k := 1; k <= 4; k++ {
			g.weightedSum(dtypes[0], k)
			g.weightedSum(dtypes[1], k)
		}
		g.rmsScale()
	})
	write("kernels_q8_amd64.s", func(g *gen) {
		for t := 1; t <= q8MaxTokens; t++ {
			g.q8Group(t)
		}
		g.q8GroupAVX2()
		g.q8Quant()
	})
	write("kernels_avx512_amd64.s", func(g *gen) {
		for _, d := range dtypes {
			g.packRow(d)
		}
		for nt := 1; nt <= mmToks; nt++ {
			g.mm(nt)
		}
	})
}

// write writes the assembly file name: the generated-code header, then
// what emit writes.
func write(name string, emit func(g *gen)) {
	var g gen
	g.p("// Code generated by asmgen; DO NOT EDIT.")
	g.p("")
	g.p("//go:build amd64 && !noasm")
	g.p("")
	g.p("#include \"textflag.h\"")
	g.p("")
	emit(&g)
	out := strings.TrimRight(g.String(), "\n") + "\n"
	if err := os.WriteFile(name, []byte(out), 0o644); err != nil {
		log.Fatal(err)
	}
}
