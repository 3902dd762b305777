package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

// ulps32 returns the distance between got and want in float32 ulps of want.
func ulps32(got float32, want float64) float64 {
	w := float32(want)
	ulp := math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w)))
	return math.Abs(float64(got)-want) / float64(ulp)
}

// sweep32 returns float32 inputs from lo to hi (both > 0) spaced
// geometrically, plus their negatives when signed.
func sweep32(lo, hi float64, n int, signed bool) []float32 {
	var xs []float32
	r := math.Pow(hi/lo, 1/float64(n-1))
	for i, x := 0, lo; i < n; i, x = i+1, x*r {
		xs = append(xs, float32(x))
		if signed {
			xs = append(xs, -float32(x))
		}
	}
	return xs
}

// refLog is the reference logarithm: Go's math.Log (within an ulp of the
// exact value) for normal x. For subnormal x it is log(x·2^64) - 64·ln 2,
// because math.Log's amd64 assembly returns about -709.09 for every
// subnormal (another reason Loom has its own log).
func refLog(x float64) float64 {
	if x < 0x1p-1022 {
		return math.Log(x*0x1p64) - 64*math.Ln2
	}
	return math.Log(x)
}

// TestLogAgainstMath compares log64, and log64 rounded to float32 (as the
// Gumbel noise uses it), with refLog over subnormals, values near 1 and the
// extremes.
func TestLogAgainstMath(t *testing.T) {
	xs := []float64{math.SmallestNonzeroFloat64, 1e-310, math.MaxFloat64, 1, 2, 0.5, math.Sqrt2, math.Sqrt2 / 2, 1 + 1e-15, 1 - 1e-16, 10}
	for _, x := range sweep32(1e-38, 3e38, 4000, false) {
		xs = append(xs, float64(x))
	}
	for i := -2000; i <= 2000; i++ {
		xs = append(xs, 1+float64(i)*1e-4)
	}
	worst, worst32 := 0.0, 0.0
	for _, x := range xs {
		want := refLog(x)
		got := log64(x)
		ulp := math.Nextafter(math.Abs(want), math.Inf(1)) - math.Abs(want)
		if want == 0 {
			assert.Zero(t, got, "log64(1)")
			continue
		}
		e := math.Abs(got-want) / ulp
		worst = math.Max(worst, e)
		assert.LessOrEqual(t, e, 4.0, "log64(%v) = %v, math.Log %v", x, got, want)
		if x >= math.SmallestNonzeroFloat32 && x <= math.MaxFloat32 && float64(float32(x)) == x {
			e32 := ulps32(float32(got), want)
			worst32 = math.Max(worst32, e32)
			assert.LessOrEqual(t, e32, 0.5001, "float32(log64(%v))", x)
		}
	}
	t.Logf("log64: worst %.2f ulp vs math.Log; rounded to float32: worst %.4f ulp", worst, worst32)
	assert.True(t, math.IsInf(log64(0), -1))
	assert.True(t, math.IsInf(log64(math.Inf(1)), 1))
	assert.True(t, math.IsNaN(log64(-1)))
	assert.True(t, math.IsNaN(log64(math.NaN())))
	for _, x := range []float64{1e-300, 1e-20, 1e-9, 3e-5, 0.01, 0.5, 1, 7, 1e10} {
		assert.InEpsilon(t, math.Log1p(x), log1p64(x), 1e-15, "log1p64(%v)", x)
	}
}

// TestActivationsAgainstMath compares tanh, sigmoid and softplus with
// float64 math-package formulas over small, moderate and saturating
// inputs.
func TestActivationsAgainstMath(t *testing.T) {
	xs := append(sweep32(1e-30, 100, 3000, true), 0)
	worstTanh, worstSig, worstSP := 0.0, 0.0, 0.0
	for _, x := range xs {
		xd := float64(x)
		e := ulps32(tanh(x), math.Tanh(xd))
		worstTanh = math.Max(worstTanh, e)
		assert.LessOrEqual(t, e, 3.0, "tanh(%v) = %v, math %v", x, tanh(x), math.Tanh(xd))
		if xd > -87 { // below, 1/(1+exp(-x)) reaches float32 subnormals and is compared absolutely
			e = ulps32(sigmoid(x), 1/(1+math.Exp(-xd)))
			worstSig = math.Max(worstSig, e)
			assert.LessOrEqual(t, e, 3.0, "sigmoid(%v)", x)
		} else {
			assert.InDelta(t, 1/(1+math.Exp(-xd)), sigmoid(x), 1e-37)
		}
		want := math.Log1p(math.Exp(xd))
		if xd > 20 {
			want = xd // PyTorch's threshold
		}
		if want > 1e-37 {
			e = ulps32(softplus(x), want)
			worstSP = math.Max(worstSP, e)
			assert.LessOrEqual(t, e, 3.0, "softplus(%v) = %v, math %v", x, softplus(x), want)
		}
	}
	t.Logf("worst float32 ulp: tanh %.2f, sigmoid %.2f, softplus %.2f", worstTanh, worstSig, worstSP)
	assert.True(t, math.IsNaN(float64(tanh(float32(math.NaN())))))
	assert.Equal(t, float32(1), tanh(float32(math.Inf(1))))
	assert.Equal(t, float32(-1), tanh(float32(math.Inf(-1))))
}
