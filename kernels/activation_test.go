package kernels

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSoftmaxExpMatchesExp runs Softmax's exponential step (AVX2 where
// available) with m = 0 over every 4093rd float32 bit pattern, so each
// output must be Exp of the input bit for bit, and the returned sum must be
// the reference's.
func TestSoftmaxExpMatchesExp(t *testing.T) {
	var in []float32
	for b := uint64(0); b < 1<<32; b += 4093 {
		in = append(in, math.Float32frombits(uint32(b)))
	}
	in = append(in, specialValues...)
	in = append(in, 88.72283, 88.72284, -103.97207, -103.97208, -87.33655, -87.3366, 89, -104)
	got := append([]float32(nil), in...)
	sum := softmaxExp(got, 0)
	ref := append([]float32(nil), in...)
	assert.True(t, sameBits(softmaxExpGo(ref, 0), sum), "sum")
	for i, x := range in {
		if want := Exp(x); !sameBits(got[i], want) {
			t.Fatalf("Exp(%v) = %#x in the vector kernel, %#x in Exp", x, math.Float32bits(got[i]), math.Float32bits(want))
		}
	}
}

func TestSoftmaxMatchesReference(t *testing.T) {
	r := &rng{16}
	for _, n := range testCols {
		for _, m := range []float32{0, 1.5, -30} {
			x := r.vec(n, n%2 == 1)
			for i := range x {
				x[i] *= 40
			}
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			s1, s2 := softmaxExp(got, m), softmaxExpGo(want, m)
			require.True(t, sameBits(s1, s2), "n=%d m=%v: sum %v, reference %v", n, m, s1, s2)
			assert.Equal(t, bitsOf(want), bitsOf(got), "n=%d m=%v", n, m)
		}
		// The whole of Softmax, with NaN, ±Inf, ±0 and -Inf masks mixed in.
		for _, mix := range [][]float32{nil, {float32(math.Inf(-1))}, {0, float32(math.Copysign(0, -1))}, specialValues} {
			x := r.vec(n, false)
			for i := range x {
				x[i] *= 20
				if len(mix) > 0 && r.next()%4 == 0 {
					x[i] = mix[r.next()%uint64(len(mix))]
				}
			}
			got, want := append([]float32(nil), x...), append([]float32(nil), x...)
			Softmax(got)
			if n > 0 {
				softmaxGo(want)
			}
			for i := range want {
				require.True(t, sameBits(got[i], want[i]), "n=%d mix=%v: [%d] = %v, reference %v", n, mix, i, got[i], want[i])
			}
		}
	}
}

func TestSwiGLUMatchesReference(t *testing.T) {
	r := &rng{17}
	for _, n := range testCols {
		for _, special := range []bool{false, true} {
			name := fmt.Sprintf("n=%d/special=%v", n, special)
			gate, up := r.vec(n, special), r.vec(n, special)
			for i := range gate {
				gate[i] *= 30
			}
			buf, got := guarded(n)
			SwiGLU(got, gate, up)
			checkGuards(t, buf, n)
			want := make([]float32, n)
			swigluGo(want, gate, up)
			for i := range want {
				require.True(t, sameBits(got[i], want[i]), "%s: [%d] SiLU(%v)*%v = %v, reference %v", name, i, gate[i], up[i], got[i], want[i])
			}
			SwiGLU(gate, gate, up) // in place
			for i := range want {
				require.True(t, sameBits(gate[i], want[i]), "%s in place: [%d]", name, i)
			}
		}
	}
}

func TestSoftmaxEdgeCases(t *testing.T) {
	Softmax(nil)
	one := []float32{-5}
	Softmax(one)
	assert.Equal(t, []float32{1}, one)
	inf := float32(math.Inf(-1))
	allInf := []float32{inf, inf}
	Softmax(allInf)
	assert.True(t, allInf[0] != allInf[0] && allInf[1] != allInf[1], "all -Inf gives NaN, as in torch")
	withNaN := []float32{1, float32(math.NaN()), 2}
	Softmax(withNaN)
	for _, v := range withNaN {
		assert.True(t, v != v)
	}
	// A -Inf entry among finite ones is an exact zero (masked attention).
	masked := []float32{0, inf, 0}
	Softmax(masked)
	assert.Equal(t, []float32{0.5, 0, 0.5}, masked)
}

func TestRoPEPanicsOnBadShape(t *testing.T) {
	assert.Panics(t, func() { RoPE(make([]float32, 8), make([]float32, 2), make([]float32, 2), 6) })
	assert.Panics(t, func() { RoPE(make([]float32, 6), make([]float32, 3), make([]float32, 3), 3) })
	assert.Panics(t, func() { RoPE(make([]float32, 8), make([]float32, 4), make([]float32, 4), 0) })
	assert.Panics(t, func() { RMSNorm(make([]float32, 2), make([]float32, 3), make([]float32, 3), 1e-5) })
	assert.Panics(t, func() { SwiGLU(make([]float32, 2), make([]float32, 3), make([]float32, 3)) })
}

// TestRoPEMatchesReference checks RoPE (assembly where the CPU has it)
// against ropeGo bit for bit, for head sizes with and without a tail past
// the chunks of eight pairs, and special values.
func TestRoPEMatchesReference(t *testing.T) {
	r := &rng{32}
	for _, hd := range []int{2, 8, 16, 20, 64, 80, 128} {
		for _, heads := range []int{1, 3, 9} {
			for _, special := range []bool{false, true} {
				name := fmt.Sprintf("headDim=%d heads=%d special=%v", hd, heads, special)
				x := r.vec(hd*heads, special)
				cos, sin := r.vec(hd/2, special), r.vec(hd/2, special)
				got, want := append([]float32(nil), x...), append([]float32(nil), x...)
				RoPE(got, cos, sin, hd)
				ropeGo(want, cos, sin, hd, 0)
				assertSameBits(t, want, got, name)
			}
		}
	}
}

// TestRMSNormMatchesReference checks RMSNorm's scaling step (assembly
// where the CPU has it) against rmsScaleGo bit for bit, in place too.
func TestRMSNormMatchesReference(t *testing.T) {
	r := &rng{33}
	for _, n := range testCols {
		for _, special := range []bool{false, true} {
			name := fmt.Sprintf("n=%d special=%v", n, special)
			x, w := r.vec(n, special), r.vec(n, special)
			inv := r.vec(1, special)[0]
			buf, got := guarded(n)
			rmsScale(got, x, w, inv)
			checkGuards(t, buf, n)
			want := make([]float32, n)
			rmsScaleGo(want, x, w, inv)
			assertSameBits(t, want, got, name)
			rmsScale(x, x, w, inv)
			assertSameBits(t, want, x, name+" in place")
		}
	}
}
