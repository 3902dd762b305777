//go:build amd64 && !noasm

package kernels

// addScaledF32AVX2 is addScaledF32Go on the first 8*n8 values.
//
//go:noescape
func addScaledF32AVX2(dst *float32, x *float32, n8 int, a float32)

// addScaledF16AVX2 is addScaledF16Go on the first 8*n8 values.
//
//go:noescape
func addScaledF16AVX2(dst *float32, x *uint16, n8 int, a float32)

// addScaledF32 runs the whole chunks of eight in assembly and the tail in
// Go.
func addScaledF32(dst []float32, a float32, x []float32) {
	done := 0
	if useAVX2 && len(x) >= 8 {
		addScaledF32AVX2(&dst[0], &x[0], len(x)/8, a)
		done = len(x) / 8 * 8
	}
	addScaledF32Go(dst[done:], a, x[done:])
}

func addScaledF16(dst []float32, a float32, x []uint16) {
	done := 0
	if useF16C && len(x) >= 8 {
		addScaledF16AVX2(&dst[0], &x[0], len(x)/8, a)
		done = len(x) / 8 * 8
	}
	addScaledF16Go(dst[done:], a, x[done:])
}

// dotRowsF32 runs rows4F32AVX2 on four rows at a time and dot1F32AVX2 on
// the rest; MatVec's rowsF32 is this with the rows back to back.
func dotRowsF32(y, rows []float32, stride int, x []float32) {
	c := len(x)
	if !useAVX2 || c == 0 {
		dotRowsF32Go(y, rows, stride, x)
		return
	}
	var t tails
	rem := c % 8
	setF32(t.x[:], 0, x, rem)
	j := 0
	for ; j+4 <= len(y); j += 4 {
		for r := range 4 {
			setF32(t.w[:], r, rows[(j+r)*stride:(j+r)*stride+c], rem)
		}
		rows4F32AVX2(&y[j], &rows[j*stride], stride, &x[0], c/8, t.wPtr(rem), t.xPtr(rem))
	}
	for ; j < len(y); j++ {
		setF32(t.w[:], 0, rows[j*stride:j*stride+c], rem)
		y[j] = dot1F32AVX2(&rows[j*stride], &x[0], c/8, t.wPtr(rem), t.xPtr(rem))
	}
}

func dotRowsF16(y []float32, rows []uint16, stride int, x []float32) {
	c := len(x)
	if !useF16C || c == 0 {
		dotRowsF16Go(y, rows, stride, x)
		return
	}
	var t tails
	rem := c % 8
	setF32(t.x[:], 0, x, rem)
	j := 0
	for ; j+4 <= len(y); j += 4 {
		for r := range 4 {
			setF16(t.w[:], r, rows[(j+r)*stride:(j+r)*stride+c], rem)
		}
		rows4F16AVX2(&y[j], &rows[j*stride], stride, &x[0], c/8, t.wPtr(rem), t.xPtr(rem))
	}
	for ; j < len(y); j++ {
		setF16(t.w[:], 0, rows[j*stride:j*stride+c], rem)
		y[j] = dot1F16AVX2(&rows[j*stride], &x[0], c/8, t.wPtr(rem), t.xPtr(rem))
	}
}

// ropeAVX2 is ropeGo for the first 8*h8 pairs of heads heads of 2*h
// values.
//
//go:noescape
func ropeAVX2(x, cos, sin *float32, h8, h, heads int)

// rmsScaleAVX2 is rmsScaleGo on the first 8*n8 values.
//
//go:noescape
func rmsScaleAVX2(out, x, w *float32, n8 int, inv float32)

func rope(x []float32, cos, sin []float32, headDim int) {
	h := headDim / 2
	done := 0
	if useAVX2 && h >= 8 && len(x) > 0 {
		ropeAVX2(&x[0], &cos[0], &sin[0], h/8, h, len(x)/headDim)
		done = h / 8 * 8
	}
	ropeGo(x, cos, sin, headDim, done)
}

func rmsScale(out, x, weight []float32, inv float32) {
	done := 0
	if useAVX2 && len(out) >= 8 {
		rmsScaleAVX2(&out[0], &x[0], &weight[0], len(out)/8, inv)
		done = len(out) / 8 * 8
	}
	rmsScaleGo(out[done:], x[done:], weight[done:], inv)
}
