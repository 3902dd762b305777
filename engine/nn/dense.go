package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/sample"
)

// Activation selects the element-wise function a Dense layer applies after
// its affine map. Each matches the PyTorch module of the same name.
type Activation uint8

// The activations Dense supports.
const (
	// Linear is the identity.
	Linear Activation = iota
	// ReLU is max(z, 0); its gradient at z = 0 is 0, as in PyTorch.
	ReLU
	// Sigmoid is 1/(1+exp(-z)); its gradient is y(1-y).
	Sigmoid
	// Tanh is the hyperbolic tangent; its gradient is 1-y².
	Tanh
	// Softplus is log(1+exp(z)), or z where z > 20 (PyTorch's beta=1,
	// threshold=20); its gradient is sigmoid(z), or 1 where z > 20.
	Softplus
	// LeakyReLU is z for z > 0, else NegativeSlope*z.
	LeakyReLU
)

// String returns the activation's name in PyTorch's functional spelling
// ("relu", "leaky_relu", ...).
func (a Activation) String() string {
	switch a {
	case Linear:
		return "linear"
	case ReLU:
		return "relu"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	case Softplus:
		return "softplus"
	case LeakyReLU:
		return "leaky_relu"
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// Dense is a fully connected layer y = act(x·Wᵀ + b), PyTorch's
// nn.Linear followed by an activation. Weight is [Out×In] (PyTorch's
// layout), Bias [Out]. x may have any number of leading dimensions; its
// last one must be In, and y's last one is Out.
type Dense struct {
	In  int        // width of the input's last dimension
	Out int        // width of the output's last dimension
	Act Activation // applied after the affine map
	// NegativeSlope is LeakyReLU's slope for negative inputs; NewDense sets
	// PyTorch's default, 0.01.
	NegativeSlope float32
	Weight        *Param // [Out×In]
	Bias          *Param // [Out]

	x, z, y *Tensor // the latest Forward's input, pre-activation and output
}

// NewDense returns a Dense layer with PyTorch's default initialisation
// distribution for nn.Linear: weight and bias uniform in
// [-1/sqrt(in), 1/sqrt(in)), drawn from rng (weight first, row-major).
func NewDense(in, out int, act Activation, rng *sample.RNG) (*Dense, error) {
	if _, err := numel([]int{in, out}); err != nil {
		return nil, fmt.Errorf("NewDense(%d, %d): %w", in, out, err)
	}
	if act > LeakyReLU {
		return nil, fmt.Errorf("NewDense: %w: %v", ErrConfig, act)
	}
	d := &Dense{In: in, Out: out, Act: act, NegativeSlope: 0.01,
		Weight: newParam("weight", out, in), Bias: newParam("bias", out)}
	bound := float32(1 / math.Sqrt(float64(in)))
	initUniform(d.Weight.Value, bound, rng)
	initUniform(d.Bias.Value, bound, rng)
	return d, nil
}

// Params implements Layer: weight, bias.
func (d *Dense) Params() []*Param { return []*Param{d.Weight, d.Bias} }

// check validates the layer's own fields, which are open to any caller.
func (d *Dense) check(op string) error {
	if d.Act > LeakyReLU || !paramOK(d.Weight, d.Out, d.In) || !paramOK(d.Bias, d.Out) {
		return fmt.Errorf("%s: %w: Dense %d→%d %v with malformed weights", op, ErrConfig, d.In, d.Out, d.Act)
	}
	return nil
}

// Forward implements Layer.
func (d *Dense) Forward(x *Tensor) (*Tensor, error) {
	const op = "Dense.Forward"
	if err := d.check(op); err != nil {
		return nil, err
	}
	n, err := checkLast(op, x, d.In)
	if err != nil {
		return nil, err
	}
	shape, err := withLast(op, x.Shape, d.Out)
	if err != nil {
		return nil, err
	}
	z := zeros(shape...)
	linearForward(z.Data, x.Data, d.Weight.Value.Data, d.Bias.Value.Data, n, d.In, d.Out)
	y := zeros(shape...)
	for i, v := range z.Data {
		y.Data[i] = d.activate(v)
	}
	d.x, d.z, d.y = x, z, y
	return y, nil
}

// activate applies the activation to one pre-activation value.
func (d *Dense) activate(z float32) float32 {
	switch d.Act {
	case ReLU:
		return max(z, 0)
	case Sigmoid:
		return sigmoid(z)
	case Tanh:
		return tanh(z)
	case Softplus:
		return softplus(z)
	case LeakyReLU:
		if z > 0 {
			return z
		}
		return float32(d.NegativeSlope * z)
	}
	return z
}

// derivative returns dy·act'(z) given the pre-activation z and output y,
// with PyTorch's backward formulas.
func (d *Dense) derivative(dy, z, y float32) float32 {
	switch d.Act {
	case ReLU:
		if z > 0 {
			return dy
		}
		return 0
	case Sigmoid:
		return float32(dy*float32(1-y)) * y
	case Tanh:
		return dy * (1 - float32(y*y))
	case Softplus:
		if z > 20 {
			return dy
		}
		return dy * sigmoid(z)
	case LeakyReLU:
		if z > 0 {
			return dy
		}
		return dy * d.NegativeSlope
	}
	return dy
}

// Backward implements Layer.
func (d *Dense) Backward(dy *Tensor) (*Tensor, error) {
	const op = "Dense.Backward"
	if d.y == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := d.check(op); err != nil {
		return nil, err
	}
	if d.x.Shape[len(d.x.Shape)-1] != d.In || d.y.Shape[len(d.y.Shape)-1] != d.Out {
		return nil, fmt.Errorf("%s: %w: sizes changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, d.y.Shape); err != nil {
		return nil, err
	}
	dz := make([]float32, len(dy.Data))
	for i, g := range dy.Data {
		dz[i] = d.derivative(g, d.z.Data[i], d.y.Data[i])
	}
	n := d.x.Len() / d.In
	dx := linearBackward(d.Weight.Grad.Data, d.Bias.Grad.Data, d.x.Data, d.Weight.Value.Data, dz, n, d.In, d.Out, true)
	return &Tensor{Shape: append([]int(nil), d.x.Shape...), Data: dx}, nil
}
