package kernels

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// Q8Block is the number of values that share one scale in a Q8 matrix and
// in the quantized activations the Q8 kernels multiply it with.
const Q8Block = 32

// maxQ8Bytes bounds the int8 values of a matrix QuantizeQ8 makes (1 TiB),
// so that an absurd shape is an error rather than a failed allocation.
const maxQ8Bytes = 1 << 40

// ErrQuantize reports a weight that Q8 cannot represent: a NaN or an
// infinity.
var ErrQuantize = errors.New("kernels: cannot quantize")

// Q8Blocks returns the number of Q8 blocks of a row of cols values: cols
// rounded up to a multiple of Q8Block, divided by Q8Block. A row whose
// length is not a multiple of Q8Block is zero-padded, in the weights and in
// the activations alike, so padding adds nothing to a dot product.
func Q8Blocks(cols int) int { return (cols + Q8Block - 1) / Q8Block }

// QuantizeQ8 returns the rows x cols matrix whose rows row provides as
// float32 (row(dst, r) fills dst, of cols values, with row r; it is called
// once per row in increasing r, so a caller may release what it has read)
// converted to Q8. Only one float32 row exists at a time, so converting a
// model never needs a float32 copy of it. Each block of 32 values v (the
// row's last block zero-padded) is stored as
//
//	d = amax/127 (float32 division), amax = max |v|
//	q[i] = clamp(RoundToEven(v[i]/d), -127, 127), or 0 when d == 0
//
// so v[i] ≈ q[i]*d within d/2. A float32 scale per block (not float16 as
// in GGUF's Q8_0) costs 4 bytes per 32 weights and never overflows or
// underflows for a finite block. QuantizeQ8 fails with ErrQuantize on a NaN
// or an infinite value and with ErrShape when rows or cols is negative or
// the matrix too large.
func QuantizeQ8(rows, cols int, row func(dst []float32, r int)) (Mat, error) {
	if rows < 0 || cols < 0 || (cols > 0 && rows > maxQ8Bytes/Q8Block/Q8Blocks(cols)) {
		return Mat{}, fmt.Errorf("%w: cannot quantize %dx%d (at most %d bytes)", ErrShape, rows, cols, maxQ8Bytes)
	}
	nb := Q8Blocks(cols)
	dst := Mat{Rows: rows, Cols: cols, DType: Q8,
		Q8: make([]int8, rows*nb*Q8Block), Scales: make([]float32, rows*nb)}
	buf := make([]float32, cols)
	for r := range rows {
		row(buf, r)
		q := dst.Q8[r*nb*Q8Block : (r+1)*nb*Q8Block]
		s := dst.Scales[r*nb : (r+1)*nb]
		for b := range nb {
			v := buf[b*Q8Block : min((b+1)*Q8Block, cols)]
			d, ok := q8Scale(v)
			if !ok {
				return Mat{}, fmt.Errorf("%w: row %d, columns %d to %d hold a NaN or an infinity",
					ErrQuantize, r, b*Q8Block, b*Q8Block+len(v)-1)
			}
			s[b] = d
			for i, x := range v {
				q[b*Q8Block+i] = int8(q8Value(x, d))
			}
		}
	}
	return dst, nil
}

// q8Scale returns the scale amax/127 of a block of values (see
// QuantizeQ8), or NaN and ok = false when the block holds a NaN or an
// infinity.
func q8Scale(v []float32) (d float32, ok bool) {
	// |x| as bits orders like |x| itself; from 0x7f800000 on it is an
	// infinity or a NaN.
	var amax uint32
	for _, x := range v {
		amax = max(amax, math.Float32bits(x)&0x7fffffff)
	}
	if amax >= 0x7f800000 {
		return float32(math.NaN()), false
	}
	return math.Float32frombits(amax) / 127, true
}

// q8Value returns x quantized with scale d: clamp(RoundToEven(x/d), -127,
// 127), or 0 when d is 0 or NaN. For |x| <= 127*d, x/d is finite (at most
// 190 when d is subnormal, 127 up to rounding otherwise), so the clamp and
// the conversion are exact.
func q8Value(x, d float32) int32 {
	if !(d > 0) {
		return 0
	}
	return int32(max(min(math.RoundToEven(float64(x/d)), 127), -127))
}

// RowTo writes row r of m, converted to float32, to dst (len(dst) ==
// m.Cols). 16-bit values are converted exactly; a Q8 value is q*d, rounded
// to float32. It is how the rows of a matrix are read outside the matrix
// kernels (an embedding lookup, quantization).
func (m *Mat) RowTo(dst []float32, r int) {
	if len(dst) != m.Cols || r < 0 || r >= m.Rows {
		panic(fmt.Sprintf("kernels.RowTo: row %d of %dx%d into %d values", r, m.Rows, m.Cols, len(dst)))
	}
	off := r * m.Cols
	switch m.DType {
	case F32:
		copy(dst, m.F32[off:off+m.Cols])
	case F16:
		for i, h := range m.U16[off : off+m.Cols] {
			dst[i] = F16ToF32(h)
		}
	case BF16:
		for i, h := range m.U16[off : off+m.Cols] {
			dst[i] = BF16ToF32(h)
		}
	case Q8:
		nb := Q8Blocks(m.Cols)
		q := m.Q8[r*nb*Q8Block:]
		s := m.Scales[r*nb:]
		for i := range dst {
			dst[i] = float32(q[i]) * s[i/Q8Block]
		}
	default:
		panic(fmt.Sprintf("kernels.RowTo: %v", m.Validate()))
	}
}

// q8Acts holds n vectors quantized for the Q8 kernels: per vector nb
// blocks of Q8Block values in q (int16, each in [-127, 127], so that the
// assembly widens only the weights) and nb scales in s, quantized as
// QuantizeQ8 quantizes a weight row. A non-finite block has the scale NaN.
type q8Acts struct {
	q []int16
	s []float32
}

// q8ActsPool recycles activation buffers so that the Q8 kernels do not
// allocate in the steady state.
var q8ActsPool = sync.Pool{New: func() any { return new(q8Acts) }}

// quantizeActs returns x (n vectors of cols values) quantized into a
// buffer from q8ActsPool; the caller puts it back. The vectors are
// quantized on p, one vector per call.
func quantizeActs(p *Pool, x []float32, n, cols int) *q8Acts {
	nb := Q8Blocks(cols)
	a := q8ActsPool.Get().(*q8Acts)
	if cap(a.q) < n*nb*Q8Block {
		a.q = make([]int16, n*nb*Q8Block)
	}
	if cap(a.s) < n*nb {
		a.s = make([]float32, n*nb)
	}
	a.q, a.s = a.q[:n*nb*Q8Block], a.s[:n*nb]
	if n == 1 {
		a.quantize(x, cols, 0, 1)
	} else {
		p.For(n, func(lo, hi int) { a.quantize(x, cols, lo, hi) })
	}
	return a
}

// quantize quantizes vectors [lo, hi) of x (vectors of cols values) into a.
func (a *q8Acts) quantize(x []float32, cols, lo, hi int) {
	nb := Q8Blocks(cols)
	for t := lo; t < hi; t++ {
		for b := range nb {
			v := x[t*cols+b*Q8Block : t*cols+min((b+1)*Q8Block, cols)]
			q := a.q[(t*nb+b)*Q8Block : (t*nb+b+1)*Q8Block]
			d, _ := q8Scale(v) // a NaN scale makes the outputs NaN, as NaN inputs would
			for i, x := range v {
				q[i] = int16(q8Value(x, d))
			}
			clear(q[len(v):])
			a.s[t*nb+b] = d
		}
	}
}

// dotQ8Go is the reference Q8 dot product of a weight row (nb blocks: w,
// its scales ws) with a quantized vector (x, its scales xs). It keeps
// eight float32 lanes like Dot: block b adds to lane l
//
//	float32(float32(s) * d), d = float32(ws[b]*xs[b]),
//
// where s is the exact integer sum of the four products of the block's
// values 2l, 2l+1, 16+2l and 17+2l (the order VPMOVSXBW and VPMADDWD pair
// them in); |s| <= 4*128*127 < 2^24, so float32(s) is exact. Blocks are
// added in increasing b and the lanes reduced as in Dot.
func dotQ8Go(w []int8, ws []float32, x []int16, xs []float32) float32 {
	var acc [8]float32
	for b := range ws {
		d := float32(ws[b] * xs[b])
		wb := w[b*Q8Block : (b+1)*Q8Block]
		xb := x[b*Q8Block : (b+1)*Q8Block]
		for l := range 8 {
			i, j := 2*l, 16+2*l
			s := int32(wb[i])*int32(xb[i]) + int32(wb[i+1])*int32(xb[i+1]) +
				int32(wb[j])*int32(xb[j]) + int32(wb[j+1])*int32(xb[j+1])
			acc[l] += float32(float32(s) * d)
		}
	}
	return reduceLanes(acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7])
}

// rowsQ8Go sets y[i] = dotQ8Go(row i of w, x) for len(y) rows of
// len(xs) blocks.
func rowsQ8Go(y []float32, w []int8, ws []float32, x []int16, xs []float32) {
	nb := len(xs)
	for i := range y {
		y[i] = dotQ8Go(w[i*nb*Q8Block:(i+1)*nb*Q8Block], ws[i*nb:(i+1)*nb], x, xs)
	}
}

// mulQ8Go sets y[t*ystride+i] = dotQ8Go(row i of w, vector t of x) for
// rows rows and n vectors of nb = len(xs)/n blocks.
func mulQ8Go(y []float32, ystride int, w []int8, ws []float32, x []int16, xs []float32, rows, n int) {
	nb := len(xs) / n
	for t := range n {
		rowsQ8Go(y[t*ystride:t*ystride+rows], w[:rows*nb*Q8Block], ws[:rows*nb],
			x[t*nb*Q8Block:(t+1)*nb*Q8Block], xs[t*nb:(t+1)*nb])
	}
}
