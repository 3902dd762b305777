package nn

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// The softmax variants all work on the last dimension of their input, one
// row at a time, and keep their output (and whatever else their gradient
// needs) for Backward. Softmax itself is kernels.Softmax: max-subtracted,
// kernels.Exp, the sum in the canonical 8-lane order. The gradient of
// y = softmax(z) is dz = y ⊙ (dy - ⟨y, dy⟩), with ⟨·,·⟩ = kernels.Dot.

// rows validates x for a row-wise operation and returns the row count and
// the row length (x's last dimension).
func rows(op string, x *Tensor) (int, int, error) {
	if err := x.Validate(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	n := x.Shape[len(x.Shape)-1]
	return x.Len() / n, n, nil
}

// softmaxBack sets dz = y ⊙ (dy - ⟨y, dy⟩), PyTorch's _softmax_backward_data.
func softmaxBack(dz, y, dy []float32) {
	s := kernels.Dot(y, dy)
	for i, v := range y {
		dz[i] = float32(v * (dy[i] - s))
	}
}

// rowState is the output of a plain row-wise variant, kept for Backward.
type rowState struct {
	y *Tensor
}

// backward validates dy against the kept output and returns, for every
// row, softmaxBack scaled by scale (1 unless a temperature divides the
// logits).
func (s *rowState) backward(op string, dy *Tensor, scale float32) (*Tensor, error) {
	if s.y == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := checkGrad(op, dy, s.y.Shape); err != nil {
		return nil, err
	}
	n := s.y.Shape[len(s.y.Shape)-1]
	dx := zeros(s.y.Shape...)
	for r := range s.y.Len() / n {
		lo, hi := r*n, (r+1)*n
		softmaxBack(dx.Data[lo:hi], s.y.Data[lo:hi], dy.Data[lo:hi])
	}
	if scale != 1 {
		for i := range dx.Data {
			dx.Data[i] /= scale
		}
	}
	return dx, nil
}

// Softmax is the standard softmax (Bridle 1990, "Probabilistic
// Interpretation of Feedforward Classification Network Outputs") over the
// last dimension, y_i = exp(x_i) / Σ_j exp(x_j). It has no parameters.
type Softmax struct {
	rowState
}

// Forward implements Layer.
func (s *Softmax) Forward(x *Tensor) (*Tensor, error) {
	return s.forward("Softmax.Forward", x, 1)
}

// forward computes softmax(x / t) row by row (t = 1: no division).
func (s *rowState) forward(op string, x *Tensor, t float32) (*Tensor, error) {
	nr, n, err := rows(op, x)
	if err != nil {
		return nil, err
	}
	y := x.Clone()
	if t != 1 {
		for i := range y.Data {
			y.Data[i] /= t
		}
	}
	for r := range nr {
		kernels.Softmax(y.Data[r*n : (r+1)*n])
	}
	s.y = y
	return y, nil
}

// Backward implements Layer.
func (s *Softmax) Backward(dy *Tensor) (*Tensor, error) {
	return s.backward("Softmax.Backward", dy, 1)
}

// Params implements Layer: none.
func (s *Softmax) Params() []*Param { return nil }

// TemperatureSoftmax is softmax(x / Temperature) over the last dimension:
// Temperature > 1 flattens the distribution, < 1 sharpens it (Hinton et
// al. 2015, "Distilling the Knowledge in a Neural Network"). Its gradient
// is the softmax gradient divided by Temperature, which must be finite and
// positive.
type TemperatureSoftmax struct {
	Temperature float32 // divides the logits; finite and > 0
	rowState
}

func (s *TemperatureSoftmax) check(op string) error {
	if !(s.Temperature > 0) || math.IsInf(float64(s.Temperature), 1) {
		return fmt.Errorf("%s: %w: temperature %v", op, ErrConfig, s.Temperature)
	}
	return nil
}

// Forward implements Layer.
func (s *TemperatureSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "TemperatureSoftmax.Forward"
	if err := s.check(op); err != nil {
		return nil, err
	}
	return s.forward(op, x, s.Temperature)
}

// Backward implements Layer.
func (s *TemperatureSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "TemperatureSoftmax.Backward"
	if err := s.check(op); err != nil {
		return nil, err
	}
	return s.backward(op, dy, s.Temperature)
}

// Params implements Layer: none.
func (s *TemperatureSoftmax) Params() []*Param { return nil }

// MaskedSoftmax is softmax over the entries of each row that Mask keeps:
// y_i = exp(x_i) / Σ_{j: Mask[j]} exp(x_j) where Mask[i], y_i = 0
// elsewhere, as PyTorch's softmax(x.masked_fill(~mask, -inf)). Mask has
// one entry per element of the last dimension and applies to every row;
// a mask that keeps nothing is ErrAllMasked (PyTorch would give NaN).
// Masked entries get zero gradient.
type MaskedSoftmax struct {
	Mask []bool // true keeps the entry; one per element of a row
	rowState
}

// Forward implements Layer.
func (s *MaskedSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "MaskedSoftmax.Forward"
	nr, n, err := rows(op, x)
	if err != nil {
		return nil, err
	}
	if len(s.Mask) != n {
		return nil, fmt.Errorf("%s: %w: mask of %d for rows of %d", op, ErrShape, len(s.Mask), n)
	}
	keep := make([]int, 0, n)
	for i, m := range s.Mask {
		if m {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("%s: %w", op, ErrAllMasked)
	}
	y := zeros(x.Shape...)
	z := make([]float32, len(keep))
	for r := range nr {
		for k, i := range keep {
			z[k] = x.Data[r*n+i]
		}
		kernels.Softmax(z)
		for k, i := range keep {
			y.Data[r*n+i] = z[k]
		}
	}
	s.y = y
	return y, nil
}

// Backward implements Layer.
func (s *MaskedSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	return s.backward("MaskedSoftmax.Backward", dy, 1)
}

// Params implements Layer: none.
func (s *MaskedSoftmax) Params() []*Param { return nil }

// TopKSoftmax is the top-k gating of sparse mixture-of-experts routing
// (Shazeer et al. 2017, "Outrageously Large Neural Networks", G(x) =
// Softmax(KeepTopK(x, k)); Mixtral's router): in each row the K largest
// logits are selected, ties going to the lower index, and
//
//	y_i = exp(x_i) / Σ_{j∈S} exp(x_j) for i in the selected set S, y_i = 0 otherwise.
//
// This equals renormalising the full softmax over S. The gradient flows
// only to the selected logits (the selection is piecewise constant). A row
// holding a NaN gives NaN everywhere. K must be in [1, row length].
type TopKSoftmax struct {
	K int // experts selected per row
	rowState
}

// Forward implements Layer.
func (s *TopKSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "TopKSoftmax.Forward"
	nr, n, err := rows(op, x)
	if err != nil {
		return nil, err
	}
	if s.K < 1 || s.K > n {
		return nil, fmt.Errorf("%s: %w: k %d for rows of %d", op, ErrConfig, s.K, n)
	}
	y := zeros(x.Shape...)
	idx := make([]int, n)
	z := make([]float32, s.K)
	for r := range nr {
		xr, yr := x.Data[r*n:(r+1)*n], y.Data[r*n:(r+1)*n]
		if hasNaN(xr) {
			fillNaN(yr)
			continue
		}
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			if c := cmp.Compare(xr[b], xr[a]); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
		sel := idx[:s.K]
		slices.Sort(sel)
		for k, i := range sel {
			z[k] = xr[i]
		}
		kernels.Softmax(z)
		for k, i := range sel {
			yr[i] = z[k]
		}
	}
	s.y = y
	return y, nil
}

// Backward implements Layer: the softmax gradient over the selected
// entries (unselected ones have y = 0 and so get 0).
func (s *TopKSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	return s.backward("TopKSoftmax.Backward", dy, 1)
}

// Params implements Layer: none.
func (s *TopKSoftmax) Params() []*Param { return nil }

func hasNaN(v []float32) bool {
	for _, x := range v {
		if x != x {
			return true
		}
	}
	return false
}

func fillNaN(v []float32) {
	for i := range v {
		v[i] = float32(math.NaN())
	}
}

// GumbelSoftmax is the Gumbel-softmax relaxation of sampling from
// softmax(x) (Jang et al. 2017, "Categorical Reparameterization with
// Gumbel-Softmax"; Maddison et al. 2017, "The Concrete Distribution"):
//
//	y = softmax((x + g) / Tau),  g_i = -log(-log(u_i)),  u_i ~ Uniform(0, 1)
//
// Every Forward draws fresh noise from RNG, one value per element in index
// order: u = (k + 0.5) / 2^24 with k the top 24 bits of RNG.Uint64() (so u
// is never 0 or 1), g computed in float64 with this package's log and
// rounded to float32. The gradient treats g as a constant: it is that of
// softmax((x+g)/Tau). Tau must be finite and positive; RNG must be set
// (NewGumbelSoftmax does).
type GumbelSoftmax struct {
	Tau float32     // temperature; finite and > 0
	RNG *sample.RNG // noise source, advanced by every Forward
	rowState
}

// NewGumbelSoftmax returns a GumbelSoftmax with temperature tau drawing its
// noise from sample.NewRNG(seed).
func NewGumbelSoftmax(tau float32, seed uint64) *GumbelSoftmax {
	return &GumbelSoftmax{Tau: tau, RNG: sample.NewRNG(seed)}
}

// gumbel returns one Gumbel(0, 1) draw from rng as specified on
// GumbelSoftmax.
func gumbel(rng *sample.RNG) float32 {
	u := (float64(rng.Uint64()>>40) + 0.5) / (1 << 24)
	return float32(-log64(-log64(u)))
}

func (s *GumbelSoftmax) check(op string) error {
	if !(s.Tau > 0) || math.IsInf(float64(s.Tau), 1) || s.RNG == nil {
		return fmt.Errorf("%s: %w: tau %v, rng set %v", op, ErrConfig, s.Tau, s.RNG != nil)
	}
	return nil
}

// Forward implements Layer.
func (s *GumbelSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "GumbelSoftmax.Forward"
	if err := s.check(op); err != nil {
		return nil, err
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	noisy := x.Clone()
	for i := range noisy.Data {
		noisy.Data[i] += gumbel(s.RNG)
	}
	return s.forward(op, noisy, s.Tau)
}

// Backward implements Layer.
func (s *GumbelSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "GumbelSoftmax.Backward"
	if err := s.check(op); err != nil {
		return nil, err
	}
	return s.backward(op, dy, s.Tau)
}

// Params implements Layer: none.
func (s *GumbelSoftmax) Params() []*Param { return nil }

// AdaptiveSoftmax is a softmax with a learned temperature: temperature
// scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks"),
// with the temperature T = exp(θ) parametrised by its logarithm θ
// (LogTemp, one value) so that any gradient step keeps it positive:
//
//	y = softmax(x · exp(-θ)),   dθ = -exp(-θ) · Σ_rows ⟨dz, x⟩
//
// where dz is the softmax gradient with respect to z = x·exp(-θ). (This is
// not the adaptive softmax of Grave et al. 2017, a clustered output layer.)
type AdaptiveSoftmax struct {
	LogTemp *Param // θ = log T, shape [1]

	x     *Tensor
	scale float32 // exp(-θ) of the latest Forward
	rowState
}

// NewAdaptiveSoftmax returns an AdaptiveSoftmax with θ = 0 (T = 1).
func NewAdaptiveSoftmax() *AdaptiveSoftmax {
	return &AdaptiveSoftmax{LogTemp: newParam("log_temp", 1)}
}

// Params implements Layer: log_temp.
func (s *AdaptiveSoftmax) Params() []*Param { return []*Param{s.LogTemp} }

// Forward implements Layer.
func (s *AdaptiveSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "AdaptiveSoftmax.Forward"
	if !paramOK(s.LogTemp, 1) {
		return nil, fmt.Errorf("%s: %w: malformed log_temp", op, ErrConfig)
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	scale := kernels.Exp(-s.LogTemp.Value.Data[0])
	z := x.Clone()
	for i := range z.Data {
		z.Data[i] *= scale
	}
	y, err := s.forward(op, z, 1)
	if err != nil {
		return nil, err
	}
	s.x, s.scale = x, scale
	return y, nil
}

// Backward implements Layer.
func (s *AdaptiveSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "AdaptiveSoftmax.Backward"
	if !paramOK(s.LogTemp, 1) {
		return nil, fmt.Errorf("%s: %w: malformed log_temp", op, ErrConfig)
	}
	dz, err := s.backward(op, dy, 1)
	if err != nil {
		return nil, err
	}
	s.LogTemp.Grad.Data[0] -= float32(kernels.Dot(dz.Data, s.x.Data) * s.scale)
	for i := range dz.Data {
		dz.Data[i] *= s.scale
	}
	return dz, nil
}
