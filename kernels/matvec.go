package kernels

import "fmt"

// Row blocks: MatVec hands the pool blocks of mvBlock rows and MatMul
// blocks of mmBlock rows (Q8Group for Q8 weights, whose layout groups
// rows), the row counts of the assembly kernels, so a chunk boundary never
// splits a block. The split changes only which goroutine computes an
// element, never its value.
const (
	mvBlock = 4
	mmBlock = 3
)

// q8Tokens is how many vectors a Q8 kernel call takes at most: one
// accumulator register per vector and row group.
const q8Tokens = 8

// MatVec sets y[r] = Dot(row r of w converted to float32, x) for every row
// r of w. len(y) must be w.Rows and len(x) w.Cols, and y must not overlap
// x or the weights. The rows are shared out over p; each y[r] is the
// canonical dot product whatever the thread count.
//
// For Q8 weights x is quantized like a weight row (see QuantizeQ8) and
// y[r] is the Q8 dot product of the two: per block an exact integer sum,
// scaled and added in float32 in increasing block order (see
// DETERMINISM.md), again whatever the thread count.
func MatVec(p *Pool, y []float32, w *Mat, x []float32) {
	checkMat("MatVec", w)
	if len(y) != w.Rows || len(x) != w.Cols {
		panic(fmt.Sprintf("kernels.MatVec: %dx%d matrix with len(x)=%d, len(y)=%d", w.Rows, w.Cols, len(x), len(y)))
	}
	block := mvBlock
	if w.DType == Q8 {
		block = Q8Group
	}
	runMat(p, matJob{y: y, w: w, x: x, n: 1, block: block})
}

// MatMul applies w to n vectors at once (prefill): x holds n rows of
// w.Cols values and y receives n rows of w.Rows values, with
// y[t*w.Rows+r] = Dot(row r of w converted to float32, x[t*w.Cols:(t+1)*w.Cols]).
// Every element is bit-identical to what MatVec gives for the same row and
// vector; MatMul only reuses each weight row across vectors (for Q8
// weights: the Q8 dot product, as in MatVec). y must not overlap x or the
// weights.
func MatMul(p *Pool, y []float32, w *Mat, x []float32, n int) {
	checkMat("MatMul", w)
	if n < 0 || (n > 0 && (w.Cols > len(x)/n || w.Rows > len(y)/n)) ||
		len(x) != n*w.Cols || len(y) != n*w.Rows {
		panic(fmt.Sprintf("kernels.MatMul: %dx%d matrix, n=%d, len(x)=%d, len(y)=%d", w.Rows, w.Cols, n, len(x), len(y)))
	}
	block := mmBlock
	if w.DType == Q8 {
		block = Q8Group
	}
	runMat(p, matJob{y: y, w: w, x: x, n: n, block: block})
}

func checkMat(kernel string, w *Mat) {
	if err := w.Validate(); err != nil {
		panic(fmt.Sprintf("kernels.%s: %v", kernel, err))
	}
}

// runMat shares the row blocks of j out over p. For Q8 weights it first
// quantizes the vectors (see QuantizeQ8), once for all rows.
func runMat(p *Pool, j matJob) {
	rows := j.w.Rows
	if rows == 0 || j.n == 0 {
		return
	}
	if j.w.Cols == 0 {
		clear(j.y) // every dot product of empty rows is +0
		return
	}
	if j.w.DType == Q8 {
		j.xq = quantizeActs(p, j.x, j.n, j.w.Cols)
		defer q8ActsPool.Put(j.xq)
	}
	p.run((rows+j.block-1)/j.block, job{mat: j})
}

// matJob is one MatVec (n == 1) or MatMul over row blocks of block rows.
type matJob struct {
	y     []float32
	w     *Mat
	x     []float32
	n     int
	block int
	xq    *q8Acts // x quantized, for Q8 weights
}

// run computes the rows of blocks [lo, hi).
func (j *matJob) run(lo, hi int) {
	w := j.w
	if w.DType == Q8 {
		j.runQ8(lo, hi)
		return
	}
	r0, r1 := lo*j.block, min(hi*j.block, w.Rows)
	c := w.Cols
	if j.n == 1 {
		y := j.y[r0:r1]
		switch w.DType {
		case F32:
			rowsF32(y, w.F32[r0*c:r1*c], j.x)
		case F16:
			rowsF16(y, w.U16[r0*c:r1*c], j.x)
		case BF16:
			rowsBF16(y, w.U16[r0*c:r1*c], j.x)
		}
		return
	}
	y := j.y[r0:]
	switch w.DType {
	case F32:
		mulF32(y, w.Rows, w.F32[r0*c:r1*c], j.x, r1-r0, j.n)
	case F16:
		mulF16(y, w.Rows, w.U16[r0*c:r1*c], j.x, r1-r0, j.n)
	case BF16:
		mulBF16(y, w.Rows, w.U16[r0*c:r1*c], j.x, r1-r0, j.n)
	}
}

// runQ8 computes the row groups [lo, hi) of a Q8 matrix for every vector,
// up to q8Tokens vectors per kernel call. A last group with fewer than
// Q8Group rows is computed into a buffer (its padding rows are zero).
func (j *matJob) runQ8(lo, hi int) {
	w, rows := j.w, j.w.Rows
	nb := Q8Blocks(w.Cols)
	var part [Q8Group * q8Tokens]float32
	for g := lo; g < hi; g++ {
		wg := w.Q8[g*nb*Q8Group*Q8Block : (g+1)*nb*Q8Group*Q8Block]
		sg := w.Scales[g*nb*Q8Group : (g+1)*nb*Q8Group]
		r0, live := g*Q8Group, min(Q8Group, rows-g*Q8Group)
		for t0 := 0; t0 < j.n; t0 += q8Tokens {
			nt := min(q8Tokens, j.n-t0)
			if live == Q8Group {
				q8Group(j.y[t0*rows+r0:], rows, wg, sg, j.xq, t0, nt)
				continue
			}
			q8Group(part[:], Q8Group, wg, sg, j.xq, t0, nt)
			for t := range nt {
				copy(j.y[(t0+t)*rows+r0:(t0+t)*rows+r0+live], part[t*Q8Group:])
			}
		}
	}
}

// The pure-Go row kernels. rowsX sets y[i] = dot(row i of w, x) with
// len(x) columns per row; mulX sets y[t*ystride+i] = dot(row i of w,
// vector t of x) for rows rows and n vectors. The assembly twins in
// stubs_amd64.go compute exactly these loops.

func rowsF32Go(y, w, x []float32) { dotRowsF32Go(y, w, len(x), x) }

func rowsF16Go(y []float32, w []uint16, x []float32) { dotRowsF16Go(y, w, len(x), x) }

func rowsBF16Go(y []float32, w []uint16, x []float32) {
	c := len(x)
	for i := range y {
		y[i] = dotBF16Go(w[i*c:(i+1)*c], x)
	}
}

func mulF32Go(y []float32, ystride int, w, x []float32, rows, n int) {
	c := len(x) / n
	for t := range n {
		for i := range rows {
			y[t*ystride+i] = dotGo(w[i*c:(i+1)*c], x[t*c:(t+1)*c])
		}
	}
}

func mulF16Go(y []float32, ystride int, w []uint16, x []float32, rows, n int) {
	c := len(x) / n
	for t := range n {
		for i := range rows {
			y[t*ystride+i] = dotF16Go(w[i*c:(i+1)*c], x[t*c:(t+1)*c])
		}
	}
}

func mulBF16Go(y []float32, ystride int, w []uint16, x []float32, rows, n int) {
	c := len(x) / n
	for t := range n {
		for i := range rows {
			y[t*ystride+i] = dotBF16Go(w[i*c:(i+1)*c], x[t*c:(t+1)*c])
		}
	}
}
