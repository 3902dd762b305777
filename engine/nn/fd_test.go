package nn

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

// Finite-difference check of a layer's gradients against its own float32
// forward pass. With the scalar L = Σ dy·y (accumulated in float64), each
// input or parameter value v is moved to float32(v±fdStep) and
// (L(v+) - L(v-)) / (v+ - v-) is compared with the analytic gradient.
//
// Why fdTol = 2e-3 (relative to max(1, |grad|)) is the right bound: every
// output of a float32 forward pass carries a rounding error of a few float32
// ulps, |δy| ≲ 1e-6·|y| over our small layers, so L carries an error of
// about 1e-6·Σ|dy·y| ≲ 1e-5 for the golden sizes (Σ|dy·y| is at most a few
// tens); dividing by the step 2·fdStep = 2e-2 gives ≲ 5e-4 to 1e-3. The
// truncation error of central differences is fdStep²/6 times the third
// derivative, ≲ 2e-5 for these smooth functions (the golden inputs keep
// every kink of ReLU, top-k, sparsemax and entmax at least 0.05 away, more
// than a step can move them). The worst measured error is 5.8e-4 (Dense
// with tanh), so the bound leaves a margin of 3; a gradient that is wrong by
// even 1% in one term (tried on LSTM's forget gate) fails it, and the test
// logs the worst error of every case.
const (
	fdStep = 1e-2
	fdTol  = 2e-3
)

// checkFiniteDifferences checks dx (the gradient for x) and every
// parameter's Grad against central differences and returns the worst
// relative error. reset, when non-nil, runs before every Forward.
func checkFiniteDifferences(t *testing.T, l Layer, reset func(), x *Tensor, dy, dx []float32) float64 {
	t.Helper()
	loss := func() float64 {
		if reset != nil {
			reset()
		}
		y, err := l.Forward(x)
		require.NoError(t, err)
		var s float64
		for i, v := range y.Data {
			s += float64(float64(dy[i]) * float64(v))
		}
		return s
	}
	worst := 0.0
	check := func(name string, v, grad []float32) {
		for i, orig := range v {
			hi, lo := orig+fdStep, orig-fdStep
			v[i] = hi
			lp := loss()
			v[i] = lo
			lm := loss()
			v[i] = orig
			fd := (lp - lm) / (float64(hi) - float64(lo))
			e := math.Abs(fd-float64(grad[i])) / math.Max(1, math.Abs(float64(grad[i])))
			if e > fdTol {
				t.Errorf("%s[%d]: gradient %v, finite difference %v (error %.2e)", name, i, grad[i], fd, e)
			}
			worst = math.Max(worst, e)
		}
	}
	check("x", x.Data, dx)
	for _, p := range l.Params() {
		check(p.Name, p.Value.Data, append([]float32(nil), p.Grad.Data...))
	}
	return worst
}
