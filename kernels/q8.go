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

// Q8Group is the number of rows the Q8 layout interleaves: the kernels
// compute sixteen rows at once, one per 32-bit lane of a 512-bit register.
const Q8Group = 16

// q8Pad is a padding value in Mat.Q8: the stored form of 0.
const q8Pad = 128

// Q8Rows returns the number of rows a Q8 matrix of rows rows stores: rows
// rounded up to a multiple of Q8Group (the extra rows are zero).
func Q8Rows(rows int) int { return (rows + Q8Group - 1) / Q8Group * Q8Group }

// q8Index returns where Mat.Q8 stores value k of block b of row r, for
// rows of nb blocks. Rows come in groups of Q8Group; within a group, for
// each block in turn and each quad of four consecutive values of the block
// (values 4q to 4q+3), the sixteen rows' quads follow each other:
//
//	((group*nb + b)*8 + q)*64 + (r%16)*4 + k%4
//
// so one 64-byte load gives sixteen rows' quads, one per 32-bit lane, the
// operand layout of VPDPBUSD.
func q8Index(nb, r, b, k int) int {
	return (((r/Q8Group*nb+b)*8+k/4)*Q8Group+r%Q8Group)*4 + k%4
}

// q8ScaleIndex returns where Mat.Scales stores the scale of block b of row
// r: for each group and block, the sixteen rows' scales follow each other.
func q8ScaleIndex(nb, r, b int) int { return (r/Q8Group*nb+b)*Q8Group + r%Q8Group }

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
// underflows for a finite block. Mat.Q8 holds q+128 (so each byte is the
// unsigned operand of VPDPBUSD) at q8Index, and Mat.Scales the scales at
// q8ScaleIndex; RowTo reads a row back. QuantizeQ8 fails with ErrQuantize
// on a NaN or an infinite value and with ErrShape when rows or cols is
// negative or the matrix too large.
func QuantizeQ8(rows, cols int, row func(dst []float32, r int)) (Mat, error) {
	if rows < 0 || cols < 0 || (cols > 0 && rows > maxQ8Bytes/Q8Block/Q8Blocks(cols)) {
		return Mat{}, fmt.Errorf("%w: cannot quantize %dx%d (at most %d bytes)", ErrShape, rows, cols, maxQ8Bytes)
	}
	nb := Q8Blocks(cols)
	dst := Mat{Rows: rows, Cols: cols, DType: Q8,
		Q8: make([]uint8, Q8Rows(rows)*nb*Q8Block), Scales: make([]float32, Q8Rows(rows)*nb)}
	for i := range dst.Q8 {
		dst.Q8[i] = q8Pad
	}
	buf := make([]float32, cols)
	for r := range rows {
		row(buf, r)
		for b := range nb {
			v := buf[b*Q8Block : min((b+1)*Q8Block, cols)]
			d, ok := q8Scale(v)
			if !ok {
				return Mat{}, fmt.Errorf("%w: row %d, columns %d to %d hold a NaN or an infinity",
					ErrQuantize, r, b*Q8Block, b*Q8Block+len(v)-1)
			}
			dst.Scales[q8ScaleIndex(nb, r, b)] = d
			for k, x := range v {
				dst.Q8[q8Index(nb, r, b, k)] = uint8(q8Value(x, d) + q8Pad)
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
		for k := range dst {
			q := int32(m.Q8[q8Index(nb, r, k/Q8Block, k%Q8Block)]) - q8Pad
			dst[k] = float32(q) * m.Scales[q8ScaleIndex(nb, r, k/Q8Block)]
		}
	default:
		panic(fmt.Sprintf("kernels.RowTo: %v", m.Validate()))
	}
}

// q8Acts holds n vectors quantized for the Q8 kernels, as QuantizeQ8
// quantizes a weight row, block-major so that a kernel finds block b of
// consecutive vectors side by side: value k of block b of vector t is
// q[(b*n+t)*32+k] (in [-127, 127], the signed operand of VPDPBUSD), its
// scale s[b*n+t], and c[b*n+t] is -128 times the block's sum, which takes
// away what the weights' +128 adds to the block's integer dot product. A
// non-finite block has the scale NaN.
type q8Acts struct {
	n int
	q []int8
	s []float32
	c []int32
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
		a.q = make([]int8, n*nb*Q8Block)
	}
	if cap(a.s) < n*nb {
		a.s = make([]float32, n*nb)
		a.c = make([]int32, n*nb)
	}
	a.n, a.q, a.s, a.c = n, a.q[:n*nb*Q8Block], a.s[:n*nb], a.c[:n*nb]
	if n == 1 {
		a.quantize(x, cols, 0, 1)
	} else {
		p.For(n, func(lo, hi int) { a.quantize(x, cols, lo, hi) })
	}
	return a
}

// quantize quantizes vectors [lo, hi) of x (vectors of cols values) into
// a: the whole blocks in assembly where there is a twin
// (q8QuantizeBlocks), the rest with quantizeGo.
func (a *q8Acts) quantize(x []float32, cols, lo, hi int) {
	for t := lo; t < hi; t++ {
		a.quantizeGo(x, cols, t, q8QuantizeBlocks(a, x, cols, t))
	}
}

// quantizeGo quantizes the blocks from b0 on of vector t of x into a.
func (a *q8Acts) quantizeGo(x []float32, cols, t, b0 int) {
	for b := b0; b < Q8Blocks(cols); b++ {
		v := x[t*cols+b*Q8Block : t*cols+min((b+1)*Q8Block, cols)]
		i := b*a.n + t
		q := a.q[i*Q8Block : (i+1)*Q8Block]
		d, _ := q8Scale(v) // a NaN scale makes the outputs NaN, as NaN inputs would
		var sum int32
		for k, x := range v {
			q[k] = int8(q8Value(x, d))
			sum += int32(q[k])
		}
		clear(q[len(v):])
		a.s[i], a.c[i] = d, -q8Pad*sum
	}
}

// q8GroupGo is the reference Q8 kernel: for the Q8Group rows of one group
// (w: its nb*512 bytes, ws: its nb*16 scales) and the vectors [t0, t0+nt)
// of a, it sets y[t*ystride+i] (t counted from t0) to the Q8 dot product
// of row i and vector t0+t:
//
//	acc := float32(0)
//	for b := range nb { // in increasing b
//		s := exact int32 sum of the block's 32 products w*x
//		acc += float32(float32(s) * float32(ws[b]*xs[b]))
//	}
//
// |s| <= 32*127*127 < 2^24, so float32(s) is exact, and any order of
// integer additions gives the same s; only the float32 steps have an
// order, and it is this one. The assembly twin (q8GroupVNNI) computes
// sixteen rows at once in this order.
func q8GroupGo(y []float32, ystride int, w []uint8, ws []float32, a *q8Acts, t0, nt int) {
	nb := len(ws) / Q8Group
	for t := range nt {
		var acc [Q8Group]float32
		for b := range nb {
			xb := a.q[(b*a.n+t0+t)*Q8Block:][:Q8Block]
			wb := w[b*8*Q8Group*4:][:8*Q8Group*4]
			var s [Q8Group]int32
			for k, xv := range xb {
				quad := wb[k/4*Q8Group*4+k%4:]
				for i := range s {
					s[i] += (int32(quad[4*i]) - q8Pad) * int32(xv)
				}
			}
			xs := a.s[b*a.n+t0+t]
			for i := range acc {
				acc[i] += float32(float32(s[i]) * float32(ws[b*Q8Group+i]*xs))
			}
		}
		copy(y[t*ystride:t*ystride+Q8Group], acc[:])
	}
}
