package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// AttentionConfig describes a multi-head self-attention layer. Heads query
// heads share KVHeads key/value heads (grouped-query attention, Ainslie et
// al. 2023; KVHeads == Heads is classic multi-head attention, KVHeads == 1
// multi-query attention); Heads must be a multiple of KVHeads. Causal masks
// every key after the query's own position.
type AttentionConfig struct {
	Dim     int  // model width: the last dimension of input and output
	Heads   int  // query heads
	KVHeads int  // key/value heads; divides Heads
	HeadDim int  // width of every head
	Causal  bool // position i attends to positions <= i only
}

// Attention is multi-head scaled dot-product self-attention (Vaswani et al.
// 2017) with grouped-query heads and no biases, the attention of Llama-family
// models without rotary embeddings. For x [B×T×Dim]:
//
//	q = x·WQᵀ [B×T×Heads·HeadDim], k = x·WKᵀ, v = x·WVᵀ [B×T×KVHeads·HeadDim]
//	head h reads key/value head h / (Heads/KVHeads) (HF's repeat_kv)
//	P = softmax(q_h·k_hᵀ / sqrt(HeadDim)) over keys j (j <= i when Causal)
//	o_h = P·v_h, heads concatenated in order; y = o·WOᵀ [B×T×Dim]
//
// WQ is [Heads·HeadDim × Dim], WK and WV [KVHeads·HeadDim × Dim], WO
// [Dim × Heads·HeadDim], PyTorch's Linear layout.
type Attention struct {
	AttentionConfig
	WQ *Param // query projection, [Heads·HeadDim × Dim]
	WK *Param // key projection, [KVHeads·HeadDim × Dim]
	WV *Param // value projection, [KVHeads·HeadDim × Dim]
	WO *Param // output projection, [Dim × Heads·HeadDim]

	x          *Tensor
	cfg        AttentionConfig // the configuration of the latest Forward
	q, k, v, o []float32       // projections and concatenated head outputs of the latest Forward
	probs      []float32       // attention probabilities [B×Heads×T×T], 0 where masked
	b, t       int
}

// NewAttention returns an Attention layer whose four projections have
// PyTorch's nn.Linear default initialisation distribution (uniform in
// ±1/sqrt(fan_in)), drawn from rng in the order WQ, WK, WV, WO.
func NewAttention(c AttentionConfig, rng *sample.RNG) (*Attention, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("NewAttention: %w", err)
	}
	a := &Attention{AttentionConfig: c,
		WQ: newParam("wq", c.Heads*c.HeadDim, c.Dim),
		WK: newParam("wk", c.KVHeads*c.HeadDim, c.Dim),
		WV: newParam("wv", c.KVHeads*c.HeadDim, c.Dim),
		WO: newParam("wo", c.Dim, c.Heads*c.HeadDim)}
	in := float32(1 / math.Sqrt(float64(c.Dim)))
	initUniform(a.WQ.Value, in, rng)
	initUniform(a.WK.Value, in, rng)
	initUniform(a.WV.Value, in, rng)
	initUniform(a.WO.Value, float32(1/math.Sqrt(float64(c.Heads*c.HeadDim))), rng)
	return a, nil
}

func (c *AttentionConfig) validate() error {
	if c.Dim < 1 || c.Heads < 1 || c.KVHeads < 1 || c.HeadDim < 1 || c.Heads%c.KVHeads != 0 {
		return fmt.Errorf("%w: attention dim %d, heads %d, kv heads %d, head dim %d", ErrConfig, c.Dim, c.Heads, c.KVHeads, c.HeadDim)
	}
	if _, err := numel([]int{c.Heads, c.HeadDim, c.Dim}); err != nil {
		return fmt.Errorf("attention weights: %w", err)
	}
	return nil
}

// Params implements Layer: wq, wk, wv, wo.
func (a *Attention) Params() []*Param { return []*Param{a.WQ, a.WK, a.WV, a.WO} }

func (a *Attention) check(op string) error {
	if err := a.validate(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	c := a.AttentionConfig
	if !paramOK(a.WQ, c.Heads*c.HeadDim, c.Dim) || !paramOK(a.WK, c.KVHeads*c.HeadDim, c.Dim) ||
		!paramOK(a.WV, c.KVHeads*c.HeadDim, c.Dim) || !paramOK(a.WO, c.Dim, c.Heads*c.HeadDim) {
		return fmt.Errorf("%s: %w: malformed attention weights", op, ErrConfig)
	}
	return nil
}

// scale returns 1/sqrt(HeadDim) rounded to float32.
func (a *Attention) scale() float32 {
	return float32(1 / math.Sqrt(float64(a.HeadDim)))
}

// gather copies the T vectors of head h (width hd) out of m, whose rows
// (one per position of sequence b) hold heads·hd values.
func gather(m []float32, b, t, heads, h, hd int) []float32 {
	out := make([]float32, t*hd)
	for i := range t {
		copy(out[i*hd:(i+1)*hd], m[((b*t+i)*heads+h)*hd:])
	}
	return out
}

// scatterAdd adds the T head vectors src back into head h of m (the
// inverse layout of gather).
func scatterAdd(m, src []float32, b, t, heads, h, hd int) {
	for i := range t {
		addTo(m[((b*t+i)*heads+h)*hd:((b*t+i)*heads+h+1)*hd], src[i*hd:(i+1)*hd])
	}
}

// Forward implements Layer.
func (a *Attention) Forward(x *Tensor) (*Tensor, error) {
	const op = "Attention.Forward"
	if err := a.check(op); err != nil {
		return nil, err
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(x.Shape) != 3 || x.Shape[2] != a.Dim {
		return nil, fmt.Errorf("%s: %w: input %v, want [B T %d]", op, ErrShape, x.Shape, a.Dim)
	}
	b, t := x.Shape[0], x.Shape[1]
	n, hd, qw, kw := b*t, a.HeadDim, a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	if _, err := numel([]int{b, a.Heads, t, max(t, hd)}); err != nil {
		return nil, fmt.Errorf("%s: attention buffers: %w", op, err)
	}
	if _, err := numel([]int{n, max(qw, a.Dim)}); err != nil {
		return nil, fmt.Errorf("%s: projections: %w", op, err)
	}
	q, k, v := make([]float32, n*qw), make([]float32, n*kw), make([]float32, n*kw)
	linearForward(q, x.Data, a.WQ.Value.Data, nil, n, a.Dim, qw)
	linearForward(k, x.Data, a.WK.Value.Data, nil, n, a.Dim, kw)
	linearForward(v, x.Data, a.WV.Value.Data, nil, n, a.Dim, kw)
	probs := make([]float32, b*a.Heads*t*t)
	o := make([]float32, n*qw)
	scale := a.scale()
	group := a.Heads / a.KVHeads
	for bi := range b {
		for h := range a.Heads {
			qh := gather(q, bi, t, a.Heads, h, hd)
			kh := gather(k, bi, t, a.KVHeads, h/group, hd)
			vh := gather(v, bi, t, a.KVHeads, h/group, hd)
			p := probs[(bi*a.Heads+h)*t*t : (bi*a.Heads+h+1)*t*t]
			mulABt(p, qh, kh, t, hd, t)
			for i := range t {
				row := p[i*t : (i+1)*t]
				keys := t
				if a.Causal {
					keys = i + 1
				}
				for j := range keys {
					row[j] *= scale
				}
				kernels.Softmax(row[:keys])
				clear(row[keys:])
			}
			oh := make([]float32, t*hd)
			mulABt(oh, p, transpose(vh, t, hd), t, t, hd)
			scatterAdd(o, oh, bi, t, a.Heads, h, hd)
		}
	}
	y := zeros(b, t, a.Dim)
	linearForward(y.Data, o, a.WO.Value.Data, nil, n, qw, a.Dim)
	a.x, a.cfg, a.q, a.k, a.v, a.o, a.probs, a.b, a.t = x, a.AttentionConfig, q, k, v, o, probs, b, t
	return y, nil
}

// Backward implements Layer.
func (a *Attention) Backward(dy *Tensor) (*Tensor, error) {
	const op = "Attention.Backward"
	if a.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := a.check(op); err != nil {
		return nil, err
	}
	if a.cfg != a.AttentionConfig {
		return nil, fmt.Errorf("%s: %w: configuration changed since Forward", op, ErrConfig)
	}
	b, t := a.b, a.t
	if err := checkGrad(op, dy, []int{b, t, a.Dim}); err != nil {
		return nil, err
	}
	n, hd, qw, kw := b*t, a.HeadDim, a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	do := linearBackward(a.WO.Grad.Data, nil, a.o, a.WO.Value.Data, dy.Data, n, qw, a.Dim, true)
	dq, dk, dv := make([]float32, n*qw), make([]float32, n*kw), make([]float32, n*kw)
	scale := a.scale()
	group := a.Heads / a.KVHeads
	dp := make([]float32, t*t)
	dh := make([]float32, t*hd)
	for bi := range b {
		for h := range a.Heads {
			qh := gather(a.q, bi, t, a.Heads, h, hd)
			kh := gather(a.k, bi, t, a.KVHeads, h/group, hd)
			vh := gather(a.v, bi, t, a.KVHeads, h/group, hd)
			doh := gather(do, bi, t, a.Heads, h, hd)
			p := a.probs[(bi*a.Heads+h)*t*t : (bi*a.Heads+h+1)*t*t]
			// dV_h += Pᵀ·dO_h
			mulABt(dh, transpose(p, t, t), transpose(doh, t, hd), t, t, hd)
			scatterAdd(dv, dh, bi, t, a.KVHeads, h/group, hd)
			// dP = dO_h·V_hᵀ; dS = P ⊙ (dP - rowsum(P ⊙ dP)) · scale
			mulABt(dp, doh, vh, t, hd, t)
			for i := range t {
				pr, gr := p[i*t:(i+1)*t], dp[i*t:(i+1)*t]
				s := kernels.Dot(pr, gr)
				for j, pv := range pr {
					gr[j] = float32(pv*(gr[j]-s)) * scale
				}
			}
			// dQ_h = dS·K_h; dK_h += dSᵀ·Q_h
			mulABt(dh, dp, transpose(kh, t, hd), t, t, hd)
			scatterAdd(dq, dh, bi, t, a.Heads, h, hd)
			mulABt(dh, transpose(dp, t, t), transpose(qh, t, hd), t, t, hd)
			scatterAdd(dk, dh, bi, t, a.KVHeads, h/group, hd)
		}
	}
	dx := linearBackward(a.WQ.Grad.Data, nil, a.x.Data, a.WQ.Value.Data, dq, n, a.Dim, qw, true)
	addTo(dx, linearBackward(a.WK.Grad.Data, nil, a.x.Data, a.WK.Value.Data, dk, n, a.Dim, kw, true))
	addTo(dx, linearBackward(a.WV.Grad.Data, nil, a.x.Data, a.WV.Value.Data, dv, n, a.Dim, kw, true))
	return &Tensor{Shape: []int{b, t, a.Dim}, Data: dx}, nil
}
