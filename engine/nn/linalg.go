package nn

import "github.com/loomai/loom/kernels"

// mulABt sets c = a·bᵀ for row-major a [m×k] and b [n×k]:
// c[i*n+j] = kernels.Dot(a row i, b row j), the canonical dot product, so
// every element is computed in the same order whatever the sizes. c must
// not overlap a or b.
func mulABt(c, a, b []float32, m, k, n int) {
	kernels.MatMul(nil, c[:m*n], &kernels.Mat{Rows: n, Cols: k, DType: kernels.F32, F32: b[:n*k]}, a[:m*k], m)
}

// transpose returns the [cols×rows] transpose of the row-major
// [rows×cols] matrix a.
func transpose(a []float32, rows, cols int) []float32 {
	t := make([]float32, rows*cols)
	for i := range rows {
		for j := range cols {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

// addTo adds src into dst element by element.
func addTo(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}

// linearForward sets y = x·wᵀ (+ b) for x [n×in], w [out×in] (PyTorch's
// Linear layout) and b [out] or nil: y[r*out+o] = Dot(w row o, x row r) + b[o].
func linearForward(y, x, w, b []float32, n, in, out int) {
	mulABt(y, x, w, n, in, out)
	if b == nil {
		return
	}
	for r := range n {
		row := y[r*out : (r+1)*out]
		for o, v := range b {
			row[o] += v
		}
	}
}

// linearBackward is the backward pass of linearForward for upstream
// gradient dy [n×out]. It adds dyᵀ·x into dw [out×in] (each element one
// canonical dot product over the n rows), adds the column sums of dy into
// db when db is non-nil (rows in increasing order), and returns dx = dy·w
// [n×in] when wantDX is set (nil otherwise).
func linearBackward(dw, db, x, w, dy []float32, n, in, out int, wantDX bool) []float32 {
	dyT := transpose(dy, n, out)
	g := make([]float32, out*in)
	mulABt(g, dyT, transpose(x, n, in), out, n, in)
	addTo(dw, g)
	if db != nil {
		addTo(db, colSums(dy, n, out))
	}
	if !wantDX {
		return nil
	}
	dx := make([]float32, n*in)
	mulABt(dx, dy, transpose(w, out, in), n, out, in)
	return dx
}

// colSums returns the column sums of the row-major [rows×cols] matrix m,
// each summed over r = 0, 1, ... in increasing order.
func colSums(m []float32, rows, cols int) []float32 {
	s := make([]float32, cols)
	for r := range rows {
		addTo(s, m[r*cols:(r+1)*cols])
	}
	return s
}
