package nn

import (
	"fmt"

	"github.com/loomai/loom/engine/sample"
)

// Param is one trainable tensor of a layer and the gradient of the loss
// with respect to it. Backward adds into Grad; ZeroGrad clears it.
type Param struct {
	// Name identifies the parameter within its layer ("weight", "wq", ...).
	Name string
	// Value holds the parameter; optimisers update it in place.
	Value *Tensor
	// Grad has Value's shape and accumulates gradients.
	Grad *Tensor
}

// newParam returns a zero parameter and gradient of a bounded shape.
func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: zeros(shape...), Grad: zeros(shape...)}
}

// Layer is one differentiable step of a network.
//
// Forward computes the output for x and keeps what Backward needs (x itself
// among it: x must not be changed until Backward has run). Backward takes
// dy, the gradient of the loss with respect to the output of the latest
// Forward, adds the gradients with respect to the parameters into their
// Grad, and returns the gradient with respect to x. Backward may be called
// more than once per Forward; each call accumulates again.
//
// Params returns the trainable parameters in a fixed order (none for a
// layer without any). The Params are the layer's own, not copies.
type Layer interface {
	Forward(x *Tensor) (*Tensor, error)
	Backward(dy *Tensor) (*Tensor, error)
	Params() []*Param
}

// ZeroGrad sets every gradient in params to zero, as PyTorch's
// optimizer.zero_grad(set_to_none=False) does.
func ZeroGrad(params []*Param) {
	for _, p := range params {
		clear(p.Grad.Data)
	}
}

// Sequential runs layers one after another: Forward feeds each layer's
// output to the next, Backward runs their backward passes in reverse.
type Sequential struct {
	Layers []Layer // run in order by Forward, in reverse by Backward
}

// Forward implements Layer.
func (s *Sequential) Forward(x *Tensor) (*Tensor, error) {
	for i, l := range s.Layers {
		if l == nil {
			return nil, fmt.Errorf("Sequential layer %d: %w: nil layer", i, ErrConfig)
		}
		y, err := l.Forward(x)
		if err != nil {
			return nil, fmt.Errorf("Sequential layer %d: %w", i, err)
		}
		x = y
	}
	return x, nil
}

// Backward implements Layer.
func (s *Sequential) Backward(dy *Tensor) (*Tensor, error) {
	for i := len(s.Layers) - 1; i >= 0; i-- {
		if s.Layers[i] == nil {
			return nil, fmt.Errorf("Sequential layer %d: %w: nil layer", i, ErrConfig)
		}
		dx, err := s.Layers[i].Backward(dy)
		if err != nil {
			return nil, fmt.Errorf("Sequential layer %d: %w", i, err)
		}
		dy = dx
	}
	return dy, nil
}

// Params implements Layer: the layers' parameters in layer order.
func (s *Sequential) Params() []*Param {
	var ps []*Param
	for _, l := range s.Layers {
		if l != nil {
			ps = append(ps, l.Params()...)
		}
	}
	return ps
}

// Residual wraps a layer F whose output has its input's shape into
// y = x + F(x), the skip connection of residual networks (He et al. 2016,
// "Deep Residual Learning for Image Recognition"). Its gradient is
// dx = dy + F'(x)ᵀ dy.
type Residual struct {
	F Layer // the residual branch; must map a shape to itself
}

// Forward implements Layer.
func (r *Residual) Forward(x *Tensor) (*Tensor, error) {
	if r.F == nil {
		return nil, fmt.Errorf("Residual.Forward: %w: nil layer", ErrConfig)
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("Residual.Forward: %w", err)
	}
	fx, err := r.F.Forward(x)
	if err != nil {
		return nil, fmt.Errorf("Residual.Forward: %w", err)
	}
	if !sameShape(fx.Shape, x.Shape) {
		return nil, fmt.Errorf("Residual.Forward: %w: inner layer maps %v to %v", ErrShape, x.Shape, fx.Shape)
	}
	y := zeros(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = v + fx.Data[i]
	}
	return y, nil
}

// Backward implements Layer.
func (r *Residual) Backward(dy *Tensor) (*Tensor, error) {
	if r.F == nil {
		return nil, fmt.Errorf("Residual.Backward: %w: nil layer", ErrConfig)
	}
	dfx, err := r.F.Backward(dy)
	if err != nil {
		return nil, fmt.Errorf("Residual.Backward: %w", err)
	}
	if !sameShape(dfx.Shape, dy.Shape) {
		return nil, fmt.Errorf("Residual.Backward: %w: inner gradient %v for output %v", ErrShape, dfx.Shape, dy.Shape)
	}
	dx := zeros(dy.Shape...)
	for i, v := range dy.Data {
		dx.Data[i] = v + dfx.Data[i]
	}
	return dx, nil
}

// Params implements Layer: the wrapped layer's parameters.
func (r *Residual) Params() []*Param {
	if r.F == nil {
		return nil
	}
	return r.F.Params()
}

// initUniform fills t with values uniform in [-bound, bound), drawn in
// index order from rng: u*2*bound - bound for u = rng.Float32() in [0, 1).
// This is the distribution of PyTorch's default initialisations (not its
// values: PyTorch's generator is not Loom's).
func initUniform(t *Tensor, bound float32, rng *sample.RNG) {
	for i := range t.Data {
		t.Data[i] = float32(rng.Float32()*(2*bound)) - bound
	}
}

// paramOK reports whether p is non-nil and both its value and its gradient
// are well-formed tensors of exactly the given shape. Layers check their
// parameters with it on every call, since Param's fields are open to any
// caller.
func paramOK(p *Param, shape ...int) bool {
	return p != nil && p.Value.Validate() == nil && p.Grad.Validate() == nil &&
		sameShape(p.Value.Shape, shape) && sameShape(p.Grad.Shape, shape)
}
