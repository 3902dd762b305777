//go:build amd64 && !noasm

package kernels

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

// weightedSum<T>x<k>AVX2 is weightedSum<T>Go for the 8*k values of dst at
// the given pointer, with rows pointing at the first row's matching value.

//go:noescape
func weightedSumF32x1AVX2(dst *float32, w *float32, rows *float32, n, stride int)

//go:noescape
func weightedSumF32x2AVX2(dst *float32, w *float32, rows *float32, n, stride int)

//go:noescape
func weightedSumF32x3AVX2(dst *float32, w *float32, rows *float32, n, stride int)

//go:noescape
func weightedSumF32x4AVX2(dst *float32, w *float32, rows *float32, n, stride int)

//go:noescape
func weightedSumF16x1AVX2(dst *float32, w *float32, rows *uint16, n, stride int)

//go:noescape
func weightedSumF16x2AVX2(dst *float32, w *float32, rows *uint16, n, stride int)

//go:noescape
func weightedSumF16x3AVX2(dst *float32, w *float32, rows *uint16, n, stride int)

//go:noescape
func weightedSumF16x4AVX2(dst *float32, w *float32, rows *uint16, n, stride int)

// The weightedSum kernels by the number k of registers of eight values
// they hold (index k-1).
var (
	weightedSumF32AVX2 = [4]func(dst, w, rows *float32, n, stride int){
		weightedSumF32x1AVX2, weightedSumF32x2AVX2, weightedSumF32x3AVX2, weightedSumF32x4AVX2}
	weightedSumF16AVX2 = [4]func(dst, w *float32, rows *uint16, n, stride int){
		weightedSumF16x1AVX2, weightedSumF16x2AVX2, weightedSumF16x3AVX2, weightedSumF16x4AVX2}
)

// weightedSumAVX2 runs the columns of dst in blocks of 32 values (four
// registers of accumulators over all the rows), the last block 8 to 24,
// with kernels; it returns how many values it did (a tail shorter than 8
// is left to Go).
func weightedSumAVX2[T float32 | uint16](dst, w []float32, rows []T, stride int, kernels *[4]func(dst, w *float32, rows *T, n, stride int)) int {
	for e := 0; e+8 <= len(dst); e += 32 {
		k := min(len(dst)-e, 32) / 8
		kernels[k-1](&dst[e], &w[0], &rows[e], len(w), stride)
	}
	return len(dst) / 8 * 8
}

func weightedSumF32(dst, w, rows []float32, stride int) {
	e := 0
	if useAVX2 && len(w) > 0 {
		e = weightedSumAVX2(dst, w, rows, stride, &weightedSumF32AVX2)
	}
	weightedSumF32Go(dst, w, rows, stride, e)
}

func weightedSumF16(dst, w []float32, rows []uint16, stride int) {
	e := 0
	if useF16C && len(w) > 0 {
		e = weightedSumAVX2(dst, w, rows, stride, &weightedSumF16AVX2)
	}
	weightedSumF16Go(dst, w, rows, stride, e)
}
