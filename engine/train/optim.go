package train

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/kernels"
)

// AdamWConfig holds AdamW's settings with PyTorch's meaning. WeightDecay
// applies only to the parameters Decays selects.
type AdamWConfig struct {
	LR           float64 // learning rate of the next step, >= 0 (a schedule sets it per step)
	Beta1, Beta2 float64 // in [0, 1)
	Eps          float64 // >= 0
	WeightDecay  float64 // >= 0
}

// AdamW performs exactly nn.AdamW's update (PyTorch's torch.optim.AdamW,
// single-tensor path; TestAdamWMatchesNN holds the two to the same bits)
// over the model's parameters with two parameter groups, decayed matrices
// and undecayed norms and biases. It exists beside nn.AdamW because a
// checkpoint must hold the optimiser's moments and step count, which
// nn.AdamW keeps private, and because its element-wise update can run on a
// kernels.Pool (each element is computed by one goroutine, so the result
// does not depend on the thread count).
type AdamW struct {
	Config         AdamWConfig
	params         []*nn.Param
	decay          []bool
	m, v           [][]float32
	t              int
	beta1t, beta2t float64
}

// NewAdamW returns an AdamW optimiser over params with zero moments.
func NewAdamW(params []*nn.Param, c AdamWConfig) (*AdamW, error) {
	if !(c.LR >= 0) || !(c.Beta1 >= 0 && c.Beta1 < 1) || !(c.Beta2 >= 0 && c.Beta2 < 1) ||
		!(c.Eps >= 0) || !(c.WeightDecay >= 0) || math.IsInf(c.LR+c.Eps+c.WeightDecay, 0) {
		return nil, fmt.Errorf("train: AdamW settings %+v: %w", c, ErrUnsupported)
	}
	o := &AdamW{Config: c, params: params, beta1t: 1, beta2t: 1}
	for _, p := range params {
		o.decay = append(o.decay, Decays(p))
		o.m = append(o.m, make([]float32, p.Value.Len()))
		o.v = append(o.v, make([]float32, p.Value.Len()))
	}
	return o, nil
}

// Step updates every parameter from its gradient. Per element, at step
// t = 1, 2, ..., as nn.AdamW:
//
//	p = p·(1 - LR·WeightDecay)     (decayed parameters only)
//	m = lerp(m, g, 1-Beta1);  v = Beta2·v + (1-Beta2)·g²
//	p = p - (LR/(1-Beta1^t)) · m / (sqrt(v)/sqrt(1-Beta2^t) + Eps)
func (o *AdamW) Step(pool *kernels.Pool) {
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
		wd := o.decay[i] && c.WeightDecay != 0
		pool.For(len(w), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				if wd {
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
		})
	}
}

// restore sets the step count and the moments (one slice per parameter,
// each of the parameter's length, copied).
func (o *AdamW) restore(t int, m, v [][]float32) error {
	if t < 0 || len(m) != len(o.params) || len(v) != len(o.params) {
		return fmt.Errorf("train: AdamW state for %d parameters at step %d: %w", len(o.params), t, ErrShape)
	}
	for i, p := range o.params {
		if len(m[i]) != p.Value.Len() || len(v[i]) != p.Value.Len() {
			return fmt.Errorf("train: AdamW state of %s: %w", p.Name, ErrShape)
		}
	}
	for i := range o.params {
		copy(o.m[i], m[i])
		copy(o.v[i], v[i])
	}
	// Beta^t as Step forms it, a running product, so a resumed run takes
	// the same values.
	o.t, o.beta1t, o.beta2t = t, 1, 1
	for range t {
		o.beta1t = float64(o.beta1t * o.Config.Beta1)
		o.beta2t = float64(o.beta2t * o.Config.Beta2)
	}
	return nil
}

// LRSchedule is a linear warmup followed by a cosine decay: for step s
// (0-based) of Steps,
//
//	s < Warmup:  LR·(s+1)/Warmup
//	otherwise:   MinLR + (LR-MinLR)·(1 + cos(π·(s-Warmup)/(Steps-Warmup)))/2
//
// with cos from kernels (deterministic). The first step after warmup runs
// at LR and the last approaches MinLR.
type LRSchedule struct {
	LR, MinLR     float64
	Warmup, Steps int
}

// At returns the learning rate of step s.
func (l LRSchedule) At(s int) float64 {
	if s < l.Warmup {
		return l.LR * float64(s+1) / float64(l.Warmup)
	}
	span := l.Steps - l.Warmup
	if span <= 0 {
		return l.LR
	}
	progress := min(float64(s-l.Warmup)/float64(span), 1)
	return l.MinLR + float64((l.LR-l.MinLR)*(1+kernels.Cos(math.Pi*progress))/2)
}
