//go:build amd64 && !noasm

package kernels

import "golang.org/x/sys/cpu"

// useQ8VNNI selects the AVX-512 VNNI Q8 kernels (kernels_q8_amd64.s,
// written by asmgen/q8.go); x/sys/cpu also checks that the OS saves the
// ZMM registers. Without them the Q8 kernels run the pure-Go reference.
var useQ8VNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VNNI

// q8g<T>VNNI is q8GroupGo for T vectors: y[t*ystride+i] for i < Q8Group
// and t < T, over nb blocks; x, xc and xs point at the first vector's block
// 0 in q8Acts' q, c and s, whose blocks are n vectors apart.

//go:noescape
func q8g1VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g2VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g3VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g4VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g5VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g6VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g7VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

//go:noescape
func q8g8VNNI(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

// q8QuantAVX512 is q8Acts.quantize for the nb whole blocks of one vector
// at x: block b's values go to q[b*n*32:], its scale to s[b*n] and its
// correction to c[b*n].
//
//go:noescape
func q8QuantAVX512(x *float32, nb int, q *int8, s *float32, c *int32, n int)

// q8QuantizeBlocks quantizes the whole blocks of vector t of x (vectors of
// cols values) into a in assembly, where the CPU has AVX-512; it returns
// how many blocks it did.
func q8QuantizeBlocks(a *q8Acts, x []float32, cols, t int) int {
	full := cols / Q8Block
	if !useQ8VNNI || full == 0 {
		return 0
	}
	q8QuantAVX512(&x[t*cols], full, &a.q[t*Q8Block], &a.s[t], &a.c[t], a.n)
	return full
}

// q8g1AVX2 is q8g1VNNI for CPUs with AVX2 only.
//
//go:noescape
func q8g1AVX2(y *float32, ystride int, w *uint8, ws *float32, x *int8, xc *int32, xs *float32, nb, n int)

// q8Group is q8GroupGo, in assembly where the CPU has AVX-512 VNNI (all
// vectors in one call) or AVX2 (one call per vector).
func q8Group(y []float32, ystride int, w []uint8, ws []float32, a *q8Acts, t0, nt int) {
	nb := len(ws) / Q8Group
	if !(useQ8VNNI || useAVX2) || nb == 0 {
		q8GroupGo(y, ystride, w, ws, a, t0, nt)
		return
	}
	_ = y[(nt-1)*ystride+Q8Group-1] // the kernels write this far
	if !useQ8VNNI {
		for t := range nt {
			i := t0 + t
			q8g1AVX2(&y[t*ystride], ystride, &w[0], &ws[0], &a.q[i*Q8Block], &a.c[i], &a.s[i], nb, a.n)
		}
		return
	}
	yp, wp, sp := &y[0], &w[0], &ws[0]
	xp, cp, xsp := &a.q[t0*Q8Block], &a.c[t0], &a.s[t0]
	switch nt {
	case 1:
		q8g1VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 2:
		q8g2VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 3:
		q8g3VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 4:
		q8g4VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 5:
		q8g5VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 6:
		q8g6VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 7:
		q8g7VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	case 8:
		q8g8VNNI(yp, ystride, wp, sp, xp, cp, xsp, nb, a.n)
	default:
		panic("kernels: q8Group of more than q8Tokens vectors")
	}
}
