package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// SwiGLU is the gated feed-forward block of Shazeer 2020 ("GLU Variants
// Improve Transformer") as Llama's MLP computes it, without biases:
//
//	y = (SiLU(x·WGateᵀ) ⊙ (x·WUpᵀ)) · WDownᵀ
//
// with SiLU(z) = z·sigmoid(z) (kernels.SiLU). WGate and WUp are
// [Hidden×Dim], WDown [Dim×Hidden]. x may have any leading dimensions; its
// last one is Dim, as is y's.
type SwiGLU struct {
	Dim           int    // width of the input and output
	Hidden        int    // width of the gated inner layer
	WGate         *Param // [Hidden×Dim]
	WUp           *Param // [Hidden×Dim]
	WDown         *Param // [Dim×Hidden]
	x             *Tensor
	gate, up, act []float32 // x·WGateᵀ, x·WUpᵀ and SiLU(gate)⊙up of the latest Forward
}

// NewSwiGLU returns a SwiGLU block whose projections have PyTorch's
// nn.Linear default initialisation distribution, drawn from rng in the
// order WGate, WUp, WDown.
func NewSwiGLU(dim, hidden int, rng *sample.RNG) (*SwiGLU, error) {
	if _, err := numel([]int{dim, hidden}); err != nil {
		return nil, fmt.Errorf("NewSwiGLU(%d, %d): %w", dim, hidden, err)
	}
	s := &SwiGLU{Dim: dim, Hidden: hidden,
		WGate: newParam("w_gate", hidden, dim), WUp: newParam("w_up", hidden, dim), WDown: newParam("w_down", dim, hidden)}
	initUniform(s.WGate.Value, float32(1/math.Sqrt(float64(dim))), rng)
	initUniform(s.WUp.Value, float32(1/math.Sqrt(float64(dim))), rng)
	initUniform(s.WDown.Value, float32(1/math.Sqrt(float64(hidden))), rng)
	return s, nil
}

// Params implements Layer: w_gate, w_up, w_down.
func (s *SwiGLU) Params() []*Param { return []*Param{s.WGate, s.WUp, s.WDown} }

func (s *SwiGLU) check(op string) error {
	if !paramOK(s.WGate, s.Hidden, s.Dim) || !paramOK(s.WUp, s.Hidden, s.Dim) || !paramOK(s.WDown, s.Dim, s.Hidden) {
		return fmt.Errorf("%s: %w: SwiGLU %d→%d with malformed weights", op, ErrConfig, s.Dim, s.Hidden)
	}
	return nil
}

// Forward implements Layer.
func (s *SwiGLU) Forward(x *Tensor) (*Tensor, error) {
	const op = "SwiGLU.Forward"
	if err := s.check(op); err != nil {
		return nil, err
	}
	n, err := checkLast(op, x, s.Dim)
	if err != nil {
		return nil, err
	}
	if _, err := numel([]int{n, s.Hidden}); err != nil {
		return nil, fmt.Errorf("%s: hidden buffers: %w", op, err)
	}
	gate, up, act := make([]float32, n*s.Hidden), make([]float32, n*s.Hidden), make([]float32, n*s.Hidden)
	linearForward(gate, x.Data, s.WGate.Value.Data, nil, n, s.Dim, s.Hidden)
	linearForward(up, x.Data, s.WUp.Value.Data, nil, n, s.Dim, s.Hidden)
	kernels.SwiGLU(act, gate, up)
	y := zeros(x.Shape...)
	linearForward(y.Data, act, s.WDown.Value.Data, nil, n, s.Hidden, s.Dim)
	s.x, s.gate, s.up, s.act = x, gate, up, act
	return y, nil
}

// Backward implements Layer. With σ = sigmoid(gate):
//
//	dact = dy·WDown;  dgate = dact ⊙ up ⊙ σ(1 + gate(1-σ));  dup = dact ⊙ SiLU(gate)
func (s *SwiGLU) Backward(dy *Tensor) (*Tensor, error) {
	const op = "SwiGLU.Backward"
	if s.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := s.check(op); err != nil {
		return nil, err
	}
	if err := checkGrad(op, dy, s.x.Shape); err != nil {
		return nil, err
	}
	n := s.x.Len() / s.Dim
	if s.x.Shape[len(s.x.Shape)-1] != s.Dim || len(s.gate) != n*s.Hidden {
		return nil, fmt.Errorf("%s: %w: sizes changed since Forward", op, ErrConfig)
	}
	dact := linearBackward(s.WDown.Grad.Data, nil, s.act, s.WDown.Value.Data, dy.Data, n, s.Hidden, s.Dim, true)
	dgate, dup := make([]float32, len(dact)), make([]float32, len(dact))
	for i, da := range dact {
		g := s.gate[i]
		sg := sigmoid(g)
		dsilu := sg * (1 + float32(g*(1-sg)))
		dgate[i] = float32(da*s.up[i]) * dsilu
		dup[i] = da * kernels.SiLU(g)
	}
	dx := linearBackward(s.WGate.Grad.Data, nil, s.x.Data, s.WGate.Value.Data, dgate, n, s.Dim, s.Hidden, true)
	addTo(dx, linearBackward(s.WUp.Grad.Data, nil, s.x.Data, s.WUp.Value.Data, dup, n, s.Dim, s.Hidden, true))
	return &Tensor{Shape: append([]int(nil), s.x.Shape...), Data: dx}, nil
}
