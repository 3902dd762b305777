package kernels

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestDotRowsMatchesReference checks DotRows and DotRowsF16 (assembly
// where the CPU has it) against the pure-Go reference bit for bit, for
// strided rows of several lengths, with special values, and that nothing
// outside y is written.
func TestDotRowsMatchesReference(t *testing.T) {
	r := &rng{30}
	for _, c := range []int{0, 1, 7, 8, 9, 16, 63, 64, 65, 128} {
		for _, n := range []int{0, 1, 3, 4, 5, 9} {
			for _, special := range []bool{false, true} {
				stride := c + int(r.next()%5)
				name := fmt.Sprintf("c=%d n=%d stride=%d special=%v", c, n, stride, special)
				x := r.vec(c, special)
				size := max(n*stride, 1)
				rows := r.vec(size, special)
				halves := r.halves(size, F16, special)

				buf, y := guarded(n)
				DotRows(y, rows[:size], stride, x)
				checkGuards(t, buf, n)
				want := make([]float32, n)
				dotRowsF32Go(want, rows, stride, x)
				assertSameBits(t, want, y, name)

				buf, y = guarded(n)
				DotRowsF16(y, halves, stride, x)
				checkGuards(t, buf, n)
				dotRowsF16Go(want, halves, stride, x)
				assertSameBits(t, want, y, "f16 "+name)
			}
		}
	}
	assert.Panics(t, func() { DotRows(make([]float32, 2), make([]float32, 7), 4, make([]float32, 4)) })
	assert.Panics(t, func() { DotRows(make([]float32, 2), make([]float32, 8), 3, make([]float32, 4)) })
}

// assertSameBits checks got against want element by element with sameBits
// (any NaN equals any NaN: payloads are not promised).
func assertSameBits(t *testing.T, want, got []float32, name string) {
	t.Helper()
	for i := range want {
		if !sameBits(want[i], got[i]) {
			t.Errorf("%s: [%d] = %v (%#x), reference %v (%#x)", name, i, got[i], bitsOf(got[i : i+1])[0], want[i], bitsOf(want[i : i+1])[0])
			return
		}
	}
}

// TestWeightedSumMatchesReference checks WeightedSum and WeightedSumF16
// against clearing dst and adding each row with the Go loop, bit for bit,
// for widths around the kernels' blocks of 8 and 32 values.
func TestWeightedSumMatchesReference(t *testing.T) {
	r := &rng{34}
	for _, c := range []int{0, 1, 7, 8, 9, 16, 20, 24, 32, 33, 40, 64, 65, 128} {
		for _, n := range []int{0, 1, 3, 17} {
			for _, special := range []bool{false, true} {
				stride := c + int(r.next()%3)
				name := fmt.Sprintf("c=%d n=%d stride=%d special=%v", c, n, stride, special)
				w := r.vec(n, special)
				size := max(n*stride, 1)
				rows, halves := r.vec(size, special), r.halves(size, F16, special)
				want := make([]float32, c)
				for j, a := range w {
					addScaledF32Go(want, a, rows[j*stride:j*stride+c])
				}
				buf, got := guarded(c)
				WeightedSum(got, w, rows, stride)
				checkGuards(t, buf, c)
				assertSameBits(t, want, got, name)

				clear(want)
				for j, a := range w {
					addScaledF16Go(want, a, halves[j*stride:j*stride+c])
				}
				buf, got = guarded(c)
				WeightedSumF16(got, w, halves, stride)
				checkGuards(t, buf, c)
				assertSameBits(t, want, got, "f16 "+name)
			}
		}
	}
	assert.Panics(t, func() { WeightedSum(make([]float32, 4), make([]float32, 2), make([]float32, 7), 4) })
}
