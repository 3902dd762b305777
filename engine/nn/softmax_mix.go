package nn

import (
	"fmt"

	"github.com/loomai/loom/kernels"
)

// mixState is what HierarchicalSoftmax and MixtureSoftmax keep from
// Forward: the prior probabilities (one softmax over the first `prior`
// entries of each row) and the component probabilities (one softmax over
// each following block of `width` entries).
type mixState struct {
	xShape []int
	p, w   int       // prior and width of the latest Forward
	prior  []float32 // [rows × prior]
	comp   []float32 // [rows × prior × width]
}

// forward validates x, whose rows must hold prior + prior·width values,
// and computes the prior and component softmaxes of every row. It returns
// the row count.
func (s *mixState) forward(op string, x *Tensor, prior, width int) (int, error) {
	if prior < 1 || width < 1 {
		return 0, fmt.Errorf("%s: %w: %d blocks of %d", op, ErrConfig, prior, width)
	}
	if prior > MaxElements || width > MaxElements {
		return 0, fmt.Errorf("%s: %w: %d blocks of %d", op, ErrTooLarge, prior, width)
	}
	if _, err := numel([]int{prior, width + 1}); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	n := prior + prior*width
	nr, err := checkLast(op, x, n)
	if err != nil {
		return 0, err
	}
	s.prior = make([]float32, nr*prior)
	s.comp = make([]float32, nr*prior*width)
	for r := range nr {
		xr := x.Data[r*n : (r+1)*n]
		p := s.prior[r*prior : (r+1)*prior]
		copy(p, xr[:prior])
		kernels.Softmax(p)
		c := s.comp[r*prior*width : (r+1)*prior*width]
		copy(c, xr[prior:])
		for k := range prior {
			kernels.Softmax(c[k*width : (k+1)*width])
		}
	}
	s.xShape, s.p, s.w = x.Shape, prior, width
	return nr, nil
}

// backward turns the gradients with respect to the prior and component
// probabilities (dprior [rows×prior], dcomp [rows×prior×width]) into the
// gradient with respect to x through the softmaxes.
func (s *mixState) backward(dprior, dcomp []float32, prior, width int) *Tensor {
	n := prior + prior*width
	dx := zeros(s.xShape...)
	for r := range len(s.prior) / prior {
		dr := dx.Data[r*n : (r+1)*n]
		softmaxBack(dr[:prior], s.prior[r*prior:(r+1)*prior], dprior[r*prior:(r+1)*prior])
		for k := range prior {
			o := (r*prior + k) * width
			softmaxBack(dr[prior+k*width:prior+(k+1)*width], s.comp[o:o+width], dcomp[o:o+width])
		}
	}
	return dx
}

// HierarchicalSoftmax is a two-level (class-based) softmax (Goodman 2001,
// "Classes for fast maximum entropy training"; Morin and Bengio 2005,
// "Hierarchical probabilistic neural network language model"): the
// Groups·GroupSize outcomes are split into Groups contiguous groups, and
//
//	p(i) = softmax(a)[g] · softmax(b_g)[j]   for outcome i = g·GroupSize + j
//
// where each input row holds the Groups group logits a first, then the
// GroupSize within-group logits b_g of every group in order: rows of
// Groups + Groups·GroupSize values give rows of Groups·GroupSize
// probabilities. (The logits come from whatever layers precede it.)
type HierarchicalSoftmax struct {
	Groups    int // number of groups
	GroupSize int // outcomes per group
	mixState
}

// Forward implements Layer.
func (s *HierarchicalSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "HierarchicalSoftmax.Forward"
	g, w := s.Groups, s.GroupSize
	nr, err := s.mixState.forward(op, x, g, w)
	if err != nil {
		return nil, err
	}
	y := zeros(withLastUnchecked(x.Shape, g*w)...)
	for r := range nr {
		for k := range g {
			pk := s.prior[r*g+k]
			o := (r*g + k) * w
			for j, c := range s.comp[o : o+w] {
				y.Data[o+j] = pk * c
			}
		}
	}
	return y, nil
}

// Backward implements Layer: dprior_g = ⟨dy_g, softmax(b_g)⟩ and
// dcomp_g = prior_g · dy_g, each then through its softmax.
func (s *HierarchicalSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "HierarchicalSoftmax.Backward"
	if s.xShape == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	g, w := s.Groups, s.GroupSize
	if s.p != g || s.w != w {
		return nil, fmt.Errorf("%s: %w: groups changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, withLastUnchecked(s.xShape, g*w)); err != nil {
		return nil, err
	}
	dprior := make([]float32, len(s.prior))
	dcomp := make([]float32, len(s.comp))
	for r := range len(s.prior) / g {
		for k := range g {
			o := (r*g + k) * w
			d := dy.Data[o : o+w]
			dprior[r*g+k] = kernels.Dot(d, s.comp[o:o+w])
			pk := s.prior[r*g+k]
			for j, v := range d {
				dcomp[o+j] = pk * v
			}
		}
	}
	return s.mixState.backward(dprior, dcomp, g, w), nil
}

// Params implements Layer: none.
func (s *HierarchicalSoftmax) Params() []*Param { return nil }

// MixtureSoftmax is the mixture of softmaxes of Yang et al. 2018
// ("Breaking the Softmax Bottleneck: A High-Rank RNN Language Model"):
//
//	p = Σ_k π_k · softmax(b_k),  π = softmax(a)
//
// over Classes outcomes with Components mixture components, summed in
// increasing k. Each input row holds the Components prior logits a first,
// then the Classes logits b_k of every component in order: rows of
// Components + Components·Classes values give rows of Classes
// probabilities. (In the paper a and the b_k are projections of a context
// vector; here they come from whatever layers precede this one.)
type MixtureSoftmax struct {
	Components int // mixture components
	Classes    int // outcomes
	mixState
}

// Forward implements Layer.
func (s *MixtureSoftmax) Forward(x *Tensor) (*Tensor, error) {
	const op = "MixtureSoftmax.Forward"
	kc, v := s.Components, s.Classes
	nr, err := s.mixState.forward(op, x, kc, v)
	if err != nil {
		return nil, err
	}
	y := zeros(withLastUnchecked(x.Shape, v)...)
	for r := range nr {
		yr := y.Data[r*v : (r+1)*v]
		for k := range kc {
			pk := s.prior[r*kc+k]
			o := (r*kc + k) * v
			for j, c := range s.comp[o : o+v] {
				yr[j] += float32(pk * c)
			}
		}
	}
	return y, nil
}

// Backward implements Layer: dπ_k = ⟨dy, softmax(b_k)⟩ and
// d softmax(b_k) = π_k · dy, each then through its softmax.
func (s *MixtureSoftmax) Backward(dy *Tensor) (*Tensor, error) {
	const op = "MixtureSoftmax.Backward"
	if s.xShape == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	kc, v := s.Components, s.Classes
	if s.p != kc || s.w != v {
		return nil, fmt.Errorf("%s: %w: components changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, withLastUnchecked(s.xShape, v)); err != nil {
		return nil, err
	}
	dprior := make([]float32, len(s.prior))
	dcomp := make([]float32, len(s.comp))
	for r := range len(s.prior) / kc {
		d := dy.Data[r*v : (r+1)*v]
		for k := range kc {
			o := (r*kc + k) * v
			dprior[r*kc+k] = kernels.Dot(d, s.comp[o:o+v])
			pk := s.prior[r*kc+k]
			for j, g := range d {
				dcomp[o+j] = pk * g
			}
		}
	}
	return s.mixState.backward(dprior, dcomp, kc, v), nil
}

// Params implements Layer: none.
func (s *MixtureSoftmax) Params() []*Param { return nil }

// withLastUnchecked returns a copy of shape with its last dimension set to
// n, for an n no larger than the last dimension it replaces.
func withLastUnchecked(shape []int, n int) []int {
	s := append([]int(nil), shape...)
	s[len(s)-1] = n
	return s
}
