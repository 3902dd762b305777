package kernels

import "fmt"

// The attention kernels: the scores of one query against a head's keys in
// a KV cache (rows stride values apart) and the weighted sum of its values.
// Both keep the package's orders, so attention gives the same bits in
// every build: each score is the canonical Dot, and each output element
// adds its terms in increasing row order, float32(w*v) then +, from +0.

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

// WeightedSum sets dst[e] to the sum over j, in increasing j from +0, of
// float32(w[j]*rows[j*stride+e]): attention's weighted sum of a head's
// values: each value's terms are added in row order, as a Go loop over the
// rows would.
func WeightedSum(dst, w, rows []float32, stride int) {
	checkRows("WeightedSum", len(w), len(rows), stride, len(dst))
	weightedSumF32(dst, w, rows, stride)
}

// WeightedSumF16 is WeightedSum over binary16 rows, converted exactly.
func WeightedSumF16(dst, w []float32, rows []uint16, stride int) {
	checkRows("WeightedSumF16", len(w), len(rows), stride, len(dst))
	weightedSumF16(dst, w, rows, stride)
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

// addScaledF32Go is dst[i] += float32(a*x[i]), one row of weightedSumF32Go.
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

// weightedSumF32Go is the reference of WeightedSum for the values [e0,
// len(dst)) of dst.
func weightedSumF32Go(dst, w, rows []float32, stride, e0 int) {
	clear(dst[e0:])
	for j, a := range w {
		addScaledF32Go(dst[e0:], a, rows[j*stride+e0:j*stride+len(dst)])
	}
}

func weightedSumF16Go(dst, w []float32, rows []uint16, stride, e0 int) {
	clear(dst[e0:])
	for j, a := range w {
		addScaledF16Go(dst[e0:], a, rows[j*stride+e0:j*stride+len(dst)])
	}
}
