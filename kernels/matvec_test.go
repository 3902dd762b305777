package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Sizes from the task: empty, below, at and just past multiples of the
// eight lanes and of the row blocks, and a long odd one.
var testCols = []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4097}

// refRow returns row r of w converted to float32 with the exact
// conversions, so that the reference is literally Dot(float32(row), x).
func refRow(w *Mat, r int) []float32 {
	row := make([]float32, w.Cols)
	for k := range row {
		i := r*w.Cols + k
		switch w.DType {
		case F32:
			row[k] = w.F32[i]
		case F16:
			row[k] = F16ToF32(w.U16[i])
		case BF16:
			row[k] = BF16ToF32(w.U16[i])
		}
	}
	return row
}

func randMat(r *rng, rows, cols int, dt DType, special bool) *Mat {
	m := &Mat{Rows: rows, Cols: cols, DType: dt}
	if dt == F32 {
		m.F32 = r.vec(rows*cols, special)
	} else {
		m.U16 = r.halves(rows*cols, dt, special)
	}
	return m
}

func TestDotMatchesReference(t *testing.T) {
	r := &rng{1}
	for _, n := range testCols {
		for _, special := range []bool{false, true} {
			a, b := r.vec(n, special), r.vec(n, special)
			got, want := Dot(a, b), dotGo(a, b)
			assert.True(t, sameBits(got, want), "n=%d special=%v: Dot %v, reference %v", n, special, got, want)
		}
	}
}

// TestDotOrder checks the canonical order itself against sums written out
// by hand, with values chosen so that any other order rounds differently.
func TestDotOrder(t *testing.T) {
	big, one := float32(1<<24), float32(1)
	tests := []struct {
		name string
		a    []float32
		want float32
	}{
		// Lane 0 gets 2^24 then 1 (lost), then the other lanes add 1 each.
		{"lanes", []float32{big, 1, 1, 1, 1, 1, 1, 1, one}, big + 8 - 2},
		// l0+l4 first: (2^24 + 1) + ... the 1 is lost; ((l0+l4)+(l2+l6)) then
		// ((l1+l5)+(l3+l7)) = 4 which survives.
		{"reduction", []float32{big, 1, 0, 1, 1, 1, 0, 1}, big + 4},
		{"empty", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ones := make([]float32, len(tc.a))
			for i := range ones {
				ones[i] = 1
			}
			assert.Equal(t, tc.want, Dot(tc.a, ones))
			assert.Equal(t, tc.want, dotGo(tc.a, ones))
		})
	}
}

// TestMatVecMatchesReference runs the dispatched kernels (assembly where
// the CPU has it) against the pure-Go reference in one binary, bit for bit.
func TestMatVecMatchesReference(t *testing.T) {
	t.Logf("assembly in use: %v", asmInUse())
	r := &rng{2}
	for _, dt := range []DType{F32, F16, BF16} {
		for _, cols := range testCols {
			for _, rows := range []int{0, 1, 2, 3, 4, 5, 7, 8, 13} {
				for _, special := range []bool{false, true} {
					name := fmt.Sprintf("%s/%dx%d/special=%v", dt, rows, cols, special)
					w := randMat(r, rows, cols, dt, special)
					x := r.vec(cols, special)
					buf, y := guarded(rows)
					MatVec(nil, y, w, x)
					checkGuards(t, buf, rows)
					for i := range rows {
						want := dotGo(refRow(w, i), x)
						if !sameBits(y[i], want) {
							t.Fatalf("%s: y[%d] = %v (%#x), reference %v", name, i, y[i], y[i], want)
						}
					}
				}
			}
		}
	}
}

func TestMatMulMatchesReference(t *testing.T) {
	r := &rng{3}
	for _, dt := range []DType{F32, F16, BF16} {
		for _, cols := range testCols {
			for _, rows := range []int{0, 1, 2, 3, 4, 5, 7, 13} {
				for _, n := range []int{0, 1, 3, 4, 5, 8, 9} {
					special := (rows+n)%2 == 1
					name := fmt.Sprintf("%s/%dx%d/n=%d/special=%v", dt, rows, cols, n, special)
					w := randMat(r, rows, cols, dt, special)
					x := r.vec(n*cols, special)
					buf, y := guarded(n * rows)
					MatMul(nil, y, w, x, n)
					checkGuards(t, buf, n*rows)
					for v := range n {
						for i := range rows {
							want := dotGo(refRow(w, i), x[v*cols:(v+1)*cols])
							if got := y[v*rows+i]; !sameBits(got, want) {
								t.Fatalf("%s: y[%d][%d] = %v, reference %v", name, v, i, got, want)
							}
						}
					}
				}
			}
		}
	}
}

func TestPoolThreadsGiveSameBits(t *testing.T) {
	r := &rng{4}
	for _, dt := range []DType{F32, F16, BF16} {
		w := randMat(r, 203, 97, dt, false)
		x := r.vec(97*6, false)
		wantMV := make([]float32, w.Rows)
		MatVec(nil, wantMV, w, x[:97])
		wantMM := make([]float32, 6*w.Rows)
		MatMul(nil, wantMM, w, x, 6)
		for _, threads := range []int{1, 2, 3, 7} {
			p := NewPool(threads)
			gotMV := make([]float32, w.Rows)
			MatVec(p, gotMV, w, x[:97])
			gotMM := make([]float32, 6*w.Rows)
			MatMul(p, gotMM, w, x, 6)
			p.Close()
			assert.Equal(t, bitsOf(wantMV), bitsOf(gotMV), "%s MatVec threads=%d", dt, threads)
			assert.Equal(t, bitsOf(wantMM), bitsOf(gotMM), "%s MatMul threads=%d", dt, threads)
		}
	}
}

func bitsOf(v []float32) []uint32 {
	b := make([]uint32, len(v))
	for i, f := range v {
		b[i] = math.Float32bits(f)
	}
	return b
}

func TestMatShapeChecks(t *testing.T) {
	tests := []struct {
		name string
		m    *Mat
	}{
		{"nil", nil},
		{"negative", &Mat{Rows: -1, Cols: 2, DType: F32}},
		{"overflow", &Mat{Rows: math.MaxInt / 2, Cols: 3, DType: F32}},
		{"short F32", &Mat{Rows: 2, Cols: 2, DType: F32, F32: make([]float32, 3)}},
		{"F32 with U16", &Mat{Rows: 1, Cols: 1, DType: F32, F32: make([]float32, 1), U16: make([]uint16, 1)}},
		{"long U16", &Mat{Rows: 1, Cols: 2, DType: BF16, U16: make([]uint16, 3)}},
		{"unset dtype", &Mat{Rows: 1, Cols: 1, F32: make([]float32, 1)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.ErrorIs(t, tc.m.Validate(), ErrShape)
			assert.Panics(t, func() { MatVec(nil, make([]float32, 1), tc.m, make([]float32, 1)) })
		})
	}
	ok := &Mat{Rows: 2, Cols: 3, DType: F16, U16: make([]uint16, 6)}
	require.NoError(t, ok.Validate())
	assert.Panics(t, func() { MatVec(nil, make([]float32, 2), ok, make([]float32, 2)) }, "short x")
	assert.Panics(t, func() { MatVec(nil, make([]float32, 3), ok, make([]float32, 3)) }, "long y")
	assert.Panics(t, func() { MatMul(nil, make([]float32, 4), ok, make([]float32, 6), 3) }, "short y")
	assert.Panics(t, func() { MatMul(nil, make([]float32, 6), ok, make([]float32, 9), -3) }, "negative n")
	assert.Panics(t, func() { Dot(make([]float32, 2), make([]float32, 3)) })
}
