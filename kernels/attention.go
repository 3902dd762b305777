package kernels

import "fmt"

// The attention kernels: the scores of one query against a head's keys in
// a KV cache (rows stride values apart) and the weighted sum of its values.
// Both keep the package's orders, so attention gives the same bits in
// every build: each score is the canonical Dot, and each output element
// adds its terms in increasing row order, float32(a*x) then +.

// DotRows sets y[j] to Dot(rows[j*stride:j*stride+len(x)], x) for every j.
func DotRows(y, rows []float32, stride int, x []float32) {
	checkRows("DotRows", len(y), len(rows), stride, len(x))
	dotRowsF32(y, rows, stride, x)
}

// DotRowsF16 is DotRows over binary16 rows, converted exactly to float32.
func DotRowsF16(y []float32, rows []uint16, stride int, x []float32) {
	checkRows("DotRowsF16", len(y), len(rows), stride, len(x))
	dotRowsF16(y, rows, stride, x)
}

// AddScaled sets dst[i] += float32(a*x[i]) for every i; len(x) must be
// len(dst).
func AddScaled(dst []float32, a float32, x []float32) {
	if len(x) != len(dst) {
		panic("kernels.AddScaled: length mismatch")
	}
	addScaledF32(dst, a, x)
}

// AddScaledF16 is AddScaled with binary16 x, converted exactly to float32.
func AddScaledF16(dst []float32, a float32, x []uint16) {
	if len(x) != len(dst) {
		panic("kernels.AddScaledF16: length mismatch")
	}
	addScaledF16(dst, a, x)
}

func checkRows(kernel string, ny, nrows, stride, nx int) {
	if ny > 0 && (stride < nx || nrows < (ny-1)*stride+nx) {
		panic(fmt.Sprintf("kernels.%s: %d rows of %d values, stride %d, in %d values", kernel, ny, nx, stride, nrows))
	}
}

func dotRowsF32Go(y, rows []float32, stride int, x []float32) {
	for j := range y {
		y[j] = dotGo(rows[j*stride:j*stride+len(x)], x)
	}
}

func dotRowsF16Go(y []float32, rows []uint16, stride int, x []float32) {
	for j := range y {
		y[j] = dotF16Go(rows[j*stride:j*stride+len(x)], x)
	}
}

func addScaledF32Go(dst []float32, a float32, x []float32) {
	for i, v := range x {
		dst[i] += float32(a * v)
	}
}

func addScaledF16Go(dst []float32, a float32, x []uint16) {
	for i, h := range x {
		dst[i] += float32(a * F16ToF32(h))
	}
}
