package nn

import (
	"fmt"
	"math"
)

// SGDConfig holds the settings of SGD, with PyTorch's torch.optim.SGD
// meaning. Hyperparameters are float64, as PyTorch's are Python floats;
// they are rounded to float32 once per step where they meet the float32
// tensors.
type SGDConfig struct {
	LR          float64 // learning rate, >= 0
	Momentum    float64 // >= 0; 0 disables the momentum buffer
	Dampening   float64 // scales the new gradient in the buffer by 1 - Dampening
	WeightDecay float64 // L2 penalty added to the gradient, >= 0
	Nesterov    bool    // Nesterov momentum; needs Momentum > 0 and Dampening == 0
}

// SGD is stochastic gradient descent with momentum exactly as PyTorch's
// torch.optim.SGD (single-tensor path) performs it, per element:
//
//	g = grad + WeightDecay·p                          (if WeightDecay != 0)
//	b = g on the first step, else Momentum·b + (1-Dampening)·g   (if Momentum != 0)
//	g = g + Momentum·b if Nesterov, else b            (if Momentum != 0)
//	p = p - LR·g
type SGD struct {
	Config SGDConfig // may be changed between steps (a learning-rate schedule)
	params []*Param
	buf    [][]float32 // momentum buffers, nil until the first step
}

// NewSGD returns an SGD optimiser over params.
func NewSGD(params []*Param, c SGDConfig) (*SGD, error) {
	if err := c.validate("NewSGD"); err != nil {
		return nil, err
	}
	if err := checkParams("NewSGD", params); err != nil {
		return nil, err
	}
	return &SGD{Config: c, params: params, buf: make([][]float32, len(params))}, nil
}

func (c SGDConfig) validate(op string) error {
	if !(c.LR >= 0) || !(c.Momentum >= 0) || !(c.WeightDecay >= 0) || math.IsNaN(c.Dampening) ||
		math.IsInf(c.LR+c.Momentum+c.WeightDecay+c.Dampening, 0) || (c.Nesterov && (c.Momentum <= 0 || c.Dampening != 0)) {
		return fmt.Errorf("%s: %w: %+v", op, ErrConfig, c)
	}
	return nil
}

// checkParams checks that every parameter is well-formed.
func checkParams(op string, params []*Param) error {
	for i, p := range params {
		if p == nil || p.Value.Validate() != nil || !paramOK(p, p.Value.Shape...) {
			return fmt.Errorf("%s: %w: parameter %d malformed", op, ErrConfig, i)
		}
	}
	return nil
}

// Step updates every parameter from its gradient. A Config changed to an
// invalid setting is ErrConfig and changes nothing.
func (o *SGD) Step() error {
	if err := o.Config.validate("SGD.Step"); err != nil {
		return err
	}
	if err := checkParams("SGD.Step", o.params); err != nil {
		return err
	}
	c := o.Config
	wd, mom, damp, lr := float32(c.WeightDecay), float32(c.Momentum), float32(1-c.Dampening), float32(c.LR)
	for i, p := range o.params {
		w := p.Value.Data
		g := append([]float32(nil), p.Grad.Data...)
		if wd != 0 {
			for j := range g {
				g[j] += float32(wd * w[j])
			}
		}
		if mom != 0 {
			b := o.buf[i]
			if b == nil || len(b) != len(g) {
				b = append([]float32(nil), g...)
				o.buf[i] = b
			} else {
				for j := range b {
					b[j] = float32(mom*b[j]) + float32(damp*g[j])
				}
			}
			if c.Nesterov {
				for j := range g {
					g[j] += float32(mom * b[j])
				}
			} else {
				copy(g, b)
			}
		}
		for j := range w {
			w[j] -= float32(lr * g[j])
		}
	}
	return nil
}

// ZeroGrad clears the gradients of the optimiser's parameters.
func (o *SGD) ZeroGrad() { ZeroGrad(o.params) }

// AdamWConfig holds the settings of AdamW with PyTorch's meaning
// (torch.optim.AdamW defaults: LR 1e-3, Beta1 0.9, Beta2 0.999, Eps 1e-8,
// WeightDecay 1e-2).
type AdamWConfig struct {
	LR           float64 // learning rate, >= 0
	Beta1, Beta2 float64 // moment decay rates, in [0, 1)
	Eps          float64 // added to the denominator, >= 0
	WeightDecay  float64 // decoupled weight decay, >= 0
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter 2019,
// "Decoupled Weight Decay Regularization") exactly as PyTorch's
// torch.optim.AdamW (single-tensor path, no amsgrad) performs it. At step
// t = 1, 2, ..., per element:
//
//	p = p·(1 - LR·WeightDecay)
//	m = lerp(m, g, 1-Beta1);  v = Beta2·v + (1-Beta2)·g²
//	p = p - (LR/(1-Beta1^t)) · m / (sqrt(v)/sqrt(1-Beta2^t) + Eps)
//
// with lerp(a, b, w) = a + w·(b-a) for w < 0.5, else b - (b-a)·(1-w)
// (PyTorch's lerp), the scalar factors computed in float64 (Beta^t as a
// running product) and rounded to float32 once per step.
type AdamW struct {
	Config         AdamWConfig // may be changed between steps (a learning-rate schedule)
	params         []*Param
	m, v           [][]float32
	t              int
	beta1t, beta2t float64 // Beta1^t and Beta2^t
}

// NewAdamW returns an AdamW optimiser over params.
func NewAdamW(params []*Param, c AdamWConfig) (*AdamW, error) {
	if err := c.validate("NewAdamW"); err != nil {
		return nil, err
	}
	if err := checkParams("NewAdamW", params); err != nil {
		return nil, err
	}
	a := &AdamW{Config: c, params: params, m: make([][]float32, len(params)), v: make([][]float32, len(params)), beta1t: 1, beta2t: 1}
	for i, p := range params {
		a.m[i] = make([]float32, p.Value.Len())
		a.v[i] = make([]float32, p.Value.Len())
	}
	return a, nil
}

func (c AdamWConfig) validate(op string) error {
	if !(c.LR >= 0) || !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) ||
		!(c.Eps >= 0) || !(c.WeightDecay >= 0) || math.IsInf(c.LR+c.Eps+c.WeightDecay, 0) {
		return fmt.Errorf("%s: %w: %+v", op, ErrConfig, c)
	}
	return nil
}

// Step updates every parameter from its gradient. A Config changed to an
// invalid setting is ErrConfig and changes nothing.
func (o *AdamW) Step() error {
	if err := o.Config.validate("AdamW.Step"); err != nil {
		return err
	}
	if err := checkParams("AdamW.Step", o.params); err != nil {
		return err
	}
	for i, p := range o.params {
		if p.Value.Len() != len(o.m[i]) {
			return fmt.Errorf("AdamW.Step: %w: parameter %d changed size", ErrConfig, i)
		}
	}
	c := o.Config
	o.t++
	o.beta1t = float64(o.beta1t * c.Beta1)
	o.beta2t = float64(o.beta2t * c.Beta2)
	decay := float32(1 - float64(c.LR*c.WeightDecay))
	w1 := float32(1 - c.Beta1)
	b2, w2 := float32(c.Beta2), float32(1-c.Beta2)
	stepSize := float32(c.LR / (1 - o.beta1t))
	bc2 := float32(math.Sqrt(1 - o.beta2t))
	eps := float32(c.Eps)
	for i, p := range o.params {
		w, g, m, v := p.Value.Data, p.Grad.Data, o.m[i], o.v[i]
		for j := range w {
			if c.WeightDecay != 0 {
				w[j] *= decay
			}
			if w1 < 0.5 {
				m[j] += float32(w1 * (g[j] - m[j]))
			} else {
				m[j] = g[j] - float32((g[j]-m[j])*(1-w1))
			}
			v[j] = float32(b2*v[j]) + float32(float32(g[j]*g[j])*w2)
			denom := float32(math.Sqrt(float64(v[j])))/bc2 + eps
			w[j] -= float32(stepSize * (m[j] / denom))
		}
	}
	return nil
}

// ZeroGrad clears the gradients of the optimiser's parameters.
func (o *AdamW) ZeroGrad() { ZeroGrad(o.params) }

// ClipGradNorm scales the gradients of params so that their global L2 norm
// is at most maxNorm, as PyTorch's torch.nn.utils.clip_grad_norm_ (norm
// type 2): with n_i the L2 norm of each gradient and N = ||(n_1, n_2, ...)||,
// every gradient is multiplied by min(maxNorm/(N + 1e-6), 1). It returns N
// (before clipping). The squares are summed in float64 in index order and
// each norm rounded to float32, as PyTorch's norms are float32. A NaN or
// infinite N is ErrNonFinite and leaves the gradients untouched.
func ClipGradNorm(params []*Param, maxNorm float64) (float32, error) {
	if !(maxNorm >= 0) {
		return 0, fmt.Errorf("ClipGradNorm: %w: max norm %v", ErrConfig, maxNorm)
	}
	if err := checkParams("ClipGradNorm", params); err != nil {
		return 0, err
	}
	var total float64
	for _, p := range params {
		var ss float64
		for _, g := range p.Grad.Data {
			ss += float64(float64(g) * float64(g))
		}
		n := float64(float32(math.Sqrt(ss)))
		total += float64(n * n)
	}
	norm := float32(math.Sqrt(total))
	if math.IsNaN(float64(norm)) || math.IsInf(float64(norm), 0) {
		return norm, fmt.Errorf("ClipGradNorm: %w: %v", ErrNonFinite, norm)
	}
	coef := float32(maxNorm) / (norm + 1e-6)
	if coef < 1 {
		for _, p := range params {
			for j := range p.Grad.Data {
				p.Grad.Data[j] *= coef
			}
		}
	}
	return norm, nil
}
