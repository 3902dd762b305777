package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// randQ8 returns a rows x cols Q8 matrix of random values. The stored
// bytes cover the whole range, value -128 included (QuantizeQ8 never writes
// it, but the kernels must agree on any Mat that validates), and so do the
// padding past cols, which the zero-padded activations must cancel, and the
// padding rows. With special, about one scale in sixteen is a special
// value.
func randQ8(r *rng, rows, cols int, special bool) *Mat {
	nb := Q8Blocks(cols)
	m := &Mat{Rows: rows, Cols: cols, DType: Q8, Q8: make([]uint8, Q8Rows(rows)*nb*Q8Block), Scales: make([]float32, Q8Rows(rows)*nb)}
	for i := range m.Q8 {
		m.Q8[i] = uint8(r.next())
	}
	for i := range m.Scales {
		m.Scales[i] = float32(math.Abs(float64(r.float()))) / 64
		if special && r.next()%16 == 0 {
			m.Scales[i] = specialValues[r.next()%uint64(len(specialValues))]
		}
	}
	return m
}

// q8Ref is the reference output of row i of w against vector x, spelled
// out from the definition in DETERMINISM.md §8 value by value: x quantized
// by quantizeActs, then per block in increasing order the exact integer
// sum of the products, scaled and added in float32.
func q8Ref(w *Mat, i int, x []float32) float32 {
	a := quantizeActs(nil, x, 1, w.Cols)
	defer q8ActsPool.Put(a)
	nb := Q8Blocks(w.Cols)
	var acc float32
	for b := range nb {
		var s int32
		for k := range Q8Block {
			s += (int32(w.Q8[q8Index(nb, i, b, k)]) - 128) * int32(a.q[b*Q8Block+k])
		}
		acc += float32(float32(s) * float32(w.Scales[q8ScaleIndex(nb, i, b)]*a.s[b]))
	}
	return acc
}

// TestQ8MatVecMatchesReference runs the dispatched Q8 kernels (assembly
// where the CPU has it) and the pure-Go kernel against the reference, bit
// for bit.
func TestQ8MatVecMatchesReference(t *testing.T) {
	t.Run("dispatched", testQ8MatVec)
	t.Run("avx2", func(t *testing.T) { withQ8AVX2(func() { testQ8MatVec(t) }) })
	t.Run("go", func(t *testing.T) { withoutQ8Asm(func() { testQ8MatVec(t) }) })
}

func testQ8MatVec(t *testing.T) {
	t.Logf("Q8 assembly in use: %v", q8AsmInUse())
	r := &rng{20}
	for _, cols := range testCols {
		for _, rows := range []int{0, 1, 2, 3, 4, 5, 7, 8, 13, 16, 17, 33} {
			for _, special := range []bool{false, true} {
				name := fmt.Sprintf("%dx%d/special=%v", rows, cols, special)
				w := randQ8(r, rows, cols, special)
				x := r.vec(cols, special)
				buf, y := guarded(rows)
				MatVec(nil, y, w, x)
				checkGuards(t, buf, rows)
				for i := range rows {
					if want := q8Ref(w, i, x); !sameBits(y[i], want) {
						t.Fatalf("%s: y[%d] = %v, reference %v", name, i, y[i], want)
					}
				}
			}
		}
	}
}

func TestQ8MatMulMatchesReference(t *testing.T) {
	t.Run("dispatched", testQ8MatMul)
	t.Run("avx2", func(t *testing.T) { withQ8AVX2(func() { testQ8MatMul(t) }) })
	t.Run("go", func(t *testing.T) { withoutQ8Asm(func() { testQ8MatMul(t) }) })
}

func testQ8MatMul(t *testing.T) {
	r := &rng{21}
	for _, cols := range testCols {
		for _, rows := range []int{0, 1, 3, 5, 13, 16, 19, 32} {
			for _, n := range []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17} {
				special := (rows+n)%2 == 1
				name := fmt.Sprintf("%dx%d/n=%d/special=%v", rows, cols, n, special)
				w := randQ8(r, rows, cols, special)
				x := r.vec(n*cols, special)
				buf, y := guarded(n * rows)
				MatMul(nil, y, w, x, n)
				checkGuards(t, buf, n*rows)
				for v := range n {
					for i := range rows {
						want := q8Ref(w, i, x[v*cols:(v+1)*cols])
						if got := y[v*rows+i]; !sameBits(got, want) {
							t.Fatalf("%s: y[%d][%d] = %v, reference %v", name, v, i, got, want)
						}
					}
				}
			}
		}
	}
}

func TestQ8PoolThreadsGiveSameBits(t *testing.T) {
	r := &rng{22}
	w := randQ8(r, 203, 97, false)
	x := r.vec(97*9, false)
	wantMV := make([]float32, w.Rows)
	MatVec(nil, wantMV, w, x[:97])
	wantMM := make([]float32, 9*w.Rows)
	MatMul(nil, wantMM, w, x, 9)
	for _, threads := range []int{1, 2, 3, 7} {
		p := NewPool(threads)
		gotMV := make([]float32, w.Rows)
		MatVec(p, gotMV, w, x[:97])
		gotMM := make([]float32, 9*w.Rows)
		MatMul(p, gotMM, w, x, 9)
		p.Close()
		assert.Equal(t, bitsOf(wantMV), bitsOf(gotMV), "MatVec threads=%d", threads)
		assert.Equal(t, bitsOf(wantMM), bitsOf(gotMM), "MatMul threads=%d", threads)
	}
}

// TestQuantizeQ8Block checks the quantization rule on blocks whose result
// follows from the definition by hand: d = amax/127, q = RoundToEven(v/d).
func TestQuantizeQ8Block(t *testing.T) {
	tests := []struct {
		name  string
		row   []float32
		scale []float32
		q     []int8 // the first values of the row's blocks, the rest zero
	}{
		{"exact", []float32{127, -63.5, 0.5, 1.5, -127, 0}, []float32{1}, []int8{127, -64, 0, 2, -127, 0}},
		{"scaled", []float32{0.5, -0.25}, []float32{0.5 / 127}, []int8{127, -64}},         // -63.5 rounds to even
		{"zero", []float32{0, float32(math.Copysign(0, -1))}, []float32{0}, []int8{0, 0}}, // d = 0 quantizes to 0
		{"two blocks", append(make([]float32, 32), 2.54), []float32{0, 0.02}, append(make([]int8, 32), 127)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := &Mat{Rows: 1, Cols: len(tc.row), DType: F32, F32: tc.row}
			q, err := QuantizeQ8(src.Rows, src.Cols, src.RowTo)
			require.NoError(t, err)
			require.NoError(t, q.Validate())
			nb := len(tc.scale)
			want := make([]int8, nb*Q8Block)
			copy(want, tc.q)
			got := make([]int8, nb*Q8Block)
			for b := range nb {
				assert.Equal(t, tc.scale[b], q.Scales[q8ScaleIndex(nb, 0, b)], "scale of block %d", b)
				for k := range Q8Block {
					got[b*Q8Block+k] = int8(int32(q.Q8[q8Index(nb, 0, b, k)]) - 128)
				}
			}
			assert.Equal(t, want, got)
			for r := 1; r < Q8Group; r++ { // the padding rows
				for b := range nb {
					assert.Zero(t, q.Scales[q8ScaleIndex(nb, r, b)])
					for k := range Q8Block {
						require.Equal(t, uint8(128), q.Q8[q8Index(nb, r, b, k)], "padding row %d", r)
					}
				}
			}
		})
	}
}

// TestQuantizeQ8Accuracy checks QuantizeQ8 and the Q8 dot product against
// float64 arithmetic: every value is within half a step (d/2) of the
// original, and the Q8 dot product is within the error bound the two
// quantizations allow of the exact product of the original values.
func TestQuantizeQ8Accuracy(t *testing.T) {
	r := &rng{23}
	for _, dt := range []DType{F32, F16, BF16} {
		for _, cols := range []int{1, 31, 32, 33, 100, 576} {
			src := randMat(r, 5, cols, dt, false)
			q, err := QuantizeQ8(src.Rows, src.Cols, src.RowTo)
			require.NoError(t, err)
			require.NoError(t, q.Validate())
			x := r.vec(cols, false)
			y := make([]float32, 5)
			MatVec(nil, y, &q, x)
			nb := Q8Blocks(cols)
			for i := range 5 {
				row := refRow(src, i)
				deq := make([]float32, cols)
				q.RowTo(deq, i)
				var exact, bound float64
				for k, v := range row {
					d := float64(q.Scales[q8ScaleIndex(nb, i, k/Q8Block)])
					// Half a step, plus the float32 rounding of q*d.
					require.LessOrEqual(t, math.Abs(float64(deq[k])-float64(v)), d/2+math.Abs(float64(v))*0x1p-23, "%s %d cols: row %d col %d", dt, cols, i, k)
					exact += float64(v) * float64(x[k])
				}
				for b := range nb {
					var xmax, wsum float64
					for k := b * Q8Block; k < min((b+1)*Q8Block, cols); k++ {
						xmax = max(xmax, math.Abs(float64(x[k])))
						wsum += math.Abs(float64(row[k]))
					}
					// |w x - w' x'| <= |w||x-x'| + |x'||w-w'| per element.
					dx, dw := xmax/127, float64(q.Scales[q8ScaleIndex(nb, i, b)])
					bound += wsum*dx/2 + float64(min((b+1)*Q8Block, cols)-b*Q8Block)*(xmax+dx/2)*dw/2
				}
				bound += 1e-5 * (1 + math.Abs(exact)) // float32 rounding of the sums
				assert.InDelta(t, exact, float64(y[i]), bound, "%s %d cols: row %d", dt, cols, i)
			}
		}
	}
}

func TestQuantizeQ8Errors(t *testing.T) {
	tests := []struct {
		name       string
		rows, cols int
		src        *Mat
		err        error
	}{
		{"nan", 2, 3, &Mat{Rows: 2, Cols: 3, DType: F32, F32: []float32{1, 2, 3, 4, float32(math.NaN()), 6}}, ErrQuantize},
		{"inf", 1, 40, &Mat{Rows: 1, Cols: 40, DType: F32, F32: append(make([]float32, 39), float32(math.Inf(-1)))}, ErrQuantize},
		{"f16 inf", 1, 1, &Mat{Rows: 1, Cols: 1, DType: F16, U16: []uint16{0x7c00}}, ErrQuantize},
		{"negative", -1, 2, nil, ErrShape},
		{"too large", math.MaxInt / 64, 33, nil, ErrShape},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			row := func(dst []float32, r int) { t.Fatal("row called") }
			if tc.src != nil {
				row = tc.src.RowTo
			}
			_, err := QuantizeQ8(tc.rows, tc.cols, row)
			assert.ErrorIs(t, err, tc.err)
		})
	}
}

// TestQ8Validate checks the Q8 storage rules: whole blocks per row and no
// other storage.
func TestQ8Validate(t *testing.T) {
	tests := []struct {
		name string
		m    *Mat
		ok   bool
	}{
		{"padded", &Mat{Rows: 2, Cols: 33, DType: Q8, Q8: make([]uint8, 16*64), Scales: make([]float32, 16*2)}, true},
		{"two groups", &Mat{Rows: 17, Cols: 32, DType: Q8, Q8: make([]uint8, 32*32), Scales: make([]float32, 32)}, true},
		{"empty", &Mat{Rows: 0, Cols: 33, DType: Q8}, true},
		{"unpadded columns", &Mat{Rows: 2, Cols: 33, DType: Q8, Q8: make([]uint8, 16*33), Scales: make([]float32, 16*2)}, false},
		{"unpadded rows", &Mat{Rows: 2, Cols: 32, DType: Q8, Q8: make([]uint8, 2*32), Scales: make([]float32, 2)}, false},
		{"short scales", &Mat{Rows: 2, Cols: 32, DType: Q8, Q8: make([]uint8, 16*32), Scales: make([]float32, 2)}, false},
		{"with F32", &Mat{Rows: 1, Cols: 32, DType: Q8, Q8: make([]uint8, 16*32), Scales: make([]float32, 16), F32: make([]float32, 32)}, false},
		{"F32 with Q8", &Mat{Rows: 1, Cols: 1, DType: F32, F32: make([]float32, 1), Q8: make([]uint8, 32)}, false},
		{"F16 with scales", &Mat{Rows: 1, Cols: 1, DType: F16, U16: make([]uint16, 1), Scales: make([]float32, 1)}, false},
		{"overflow", &Mat{Rows: math.MaxInt / 16, Cols: 1, DType: Q8}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.m.Validate()
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, ErrShape)
			}
		})
	}
}

// TestQ8NonFiniteActivations checks that a NaN or infinite input turns the
// outputs NaN instead of being quantized to something finite.
func TestQ8NonFiniteActivations(t *testing.T) {
	src := &Mat{Rows: 3, Cols: 40, DType: F32, F32: (&rng{24}).vec(120, false)}
	w, err := QuantizeQ8(src.Rows, src.Cols, src.RowTo)
	require.NoError(t, err)
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
		x := (&rng{25}).vec(40, false)
		x[35] = bad
		y := make([]float32, 3)
		MatVec(nil, y, &w, x)
		for i, v := range y {
			assert.True(t, math.IsNaN(float64(v)), "input %v: y[%d] = %v", bad, i, v)
		}
	}
}

func TestMatRowTo(t *testing.T) {
	r := &rng{26}
	for _, dt := range []DType{F32, F16, BF16} {
		m := randMat(r, 3, 5, dt, true)
		got := make([]float32, 5)
		m.RowTo(got, 2)
		assert.Equal(t, bitsOf(refRow(m, 2)), bitsOf(got), "%s", dt)
	}
	q := &Mat{Rows: 2, Cols: 3, DType: Q8, Q8: make([]uint8, 16*32), Scales: make([]float32, 16)}
	for k, v := range []int32{-4, 1, 127} {
		q.Q8[q8Index(1, 1, 0, k)] = uint8(v + 128)
	}
	q.Scales[q8ScaleIndex(1, 0, 0)], q.Scales[q8ScaleIndex(1, 1, 0)] = 0.5, 0.25
	got := make([]float32, 3)
	q.RowTo(got, 1)
	assert.Equal(t, []float32{-1, 0.25, 31.75}, got)
	assert.Panics(t, func() { q.RowTo(got, 2) })
	assert.Panics(t, func() { q.RowTo(got[:2], 0) })
}

func TestQ8MatVecDoesNotAllocate(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	w := randQ8(&rng{27}, 64, 64, false)
	x := make([]float32, 64)
	y := make([]float32, 64)
	MatVec(p, y, w, x) // fills the buffer pool
	allocs := testing.AllocsPerRun(100, func() { MatVec(p, y, w, x) })
	assert.Zero(t, allocs)
}

// TestQuantizeActsMatchesGo checks the activations' quantization
// (assembly where the CPU has it) against quantizeGo byte for byte: values,
// scales (NaN for a non-finite block) and corrections, for several vector
// counts and lengths, on random, special, all-zero, subnormal and tie
// blocks (x/d exactly k+0.5, which rounds to even).
func TestQuantizeActsMatchesGo(t *testing.T) {
	t.Logf("Q8 assembly in use: %v", q8AsmInUse())
	r := &rng{28}
	for _, cols := range []int{1, 31, 32, 33, 64, 100, 576, 1536} {
		for _, n := range []int{1, 2, 3, 8, 9} {
			x := r.vec(n*cols, (cols+n)%2 == 0)
			for k := range x {
				switch r.next() % 64 {
				case 0:
					x[k] = 0
				case 1:
					x[k] = math.Float32frombits(uint32(r.next() % 0x800000)) // subnormal
				}
			}
			if n > 1 { // a block of ties: amax 127 makes d = 1
				for k := 0; k < min(cols, Q8Block); k++ {
					x[cols+k] = float32(k%7) - 2.5
				}
				x[cols] = 127
			}
			got := quantizeActs(nil, x, n, cols)
			want := &q8Acts{n: n, q: make([]int8, len(got.q)), s: make([]float32, len(got.s)), c: make([]int32, len(got.c))}
			for v := range n {
				want.quantizeGo(x, cols, v, 0)
			}
			name := fmt.Sprintf("cols=%d n=%d", cols, n)
			assert.Equal(t, want.q, got.q, name)
			assert.Equal(t, bitsOf(want.s), bitsOf(got.s), name)
			assert.Equal(t, want.c, got.c, name)
			q8ActsPool.Put(got)
		}
	}
}
