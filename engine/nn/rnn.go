package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/sample"
)

// recurrent holds what RNN and LSTM share: sizes, the four PyTorch
// parameters (gates = 1 for RNN, 4 for LSTM) and input checks.
type recurrent struct {
	In       int    // width of every input step
	Hidden   int    // width of the hidden state
	WeightIH *Param // input weights, [gates·Hidden × In]
	WeightHH *Param // recurrent weights, [gates·Hidden × Hidden]
	BiasIH   *Param // [gates·Hidden]
	BiasHH   *Param // [gates·Hidden]
}

// newRecurrent returns the parameters with PyTorch's default initialisation
// distribution for nn.RNN and nn.LSTM: all uniform in
// [-1/sqrt(hidden), 1/sqrt(hidden)), drawn from rng in the order
// weight_ih, weight_hh, bias_ih, bias_hh.
func newRecurrent(in, hidden, gates int, rng *sample.RNG) (recurrent, error) {
	if _, err := numel([]int{gates, hidden, max(in, hidden)}); err != nil {
		return recurrent{}, err
	}
	r := recurrent{In: in, Hidden: hidden,
		WeightIH: newParam("weight_ih", gates*hidden, in),
		WeightHH: newParam("weight_hh", gates*hidden, hidden),
		BiasIH:   newParam("bias_ih", gates*hidden),
		BiasHH:   newParam("bias_hh", gates*hidden)}
	bound := float32(1 / math.Sqrt(float64(hidden)))
	for _, p := range r.params() {
		initUniform(p.Value, bound, rng)
	}
	return r, nil
}

func (r *recurrent) params() []*Param {
	return []*Param{r.WeightIH, r.WeightHH, r.BiasIH, r.BiasHH}
}

// checkParams validates the parameters.
func (r *recurrent) checkParams(op string, gates int) error {
	g := gates * r.Hidden
	if r.In < 1 || r.Hidden < 1 || !paramOK(r.WeightIH, g, r.In) || !paramOK(r.WeightHH, g, r.Hidden) ||
		!paramOK(r.BiasIH, g) || !paramOK(r.BiasHH, g) {
		return fmt.Errorf("%s: %w: malformed weights for input %d, hidden %d", op, ErrConfig, r.In, r.Hidden)
	}
	return nil
}

// check validates the parameters and the input x [B×T×In]; it returns B, T.
func (r *recurrent) check(op string, gates int, x *Tensor) (int, int, error) {
	if err := r.checkParams(op, gates); err != nil {
		return 0, 0, err
	}
	g := gates * r.Hidden
	if err := x.Validate(); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	if len(x.Shape) != 3 || x.Shape[2] != r.In {
		return 0, 0, fmt.Errorf("%s: %w: input %v, want [B T %d]", op, ErrShape, x.Shape, r.In)
	}
	if _, err := numel([]int{x.Shape[0], x.Shape[1], g}); err != nil {
		return 0, 0, fmt.Errorf("%s: gate buffers: %w", op, err)
	}
	return x.Shape[0], x.Shape[1], nil
}

// project returns x·W_ihᵀ + b_ih + b_hh for every position at once
// ([B·T × gates·Hidden], rows in (b, t) order): the part of every step's
// pre-activation that does not depend on the hidden state.
func (r *recurrent) project(x []float32, n, g int) []float32 {
	xi := make([]float32, n*g)
	linearForward(xi, x, r.WeightIH.Value.Data, r.BiasIH.Value.Data, n, r.In, g)
	for i := range n {
		addTo(xi[i*g:(i+1)*g], r.BiasHH.Value.Data)
	}
	return xi
}

// stepHidden adds h·W_hhᵀ into pre (B rows of gates·Hidden) for the B
// hidden states h.
func (r *recurrent) stepHidden(pre, h []float32, b, g int) {
	hh := make([]float32, b*g)
	mulABt(hh, h, r.WeightHH.Value.Data, b, r.Hidden, g)
	addTo(pre, hh)
}

// finish turns the per-step pre-activation gradients dpre [B·T × g] (rows
// in (b, t) order) and the previous hidden states hprev (same layout, zero
// at t = 0) into the parameter gradients and returns dx.
func (r *recurrent) finish(x, dpre, hprev []float32, n, g int) []float32 {
	linearBackward(r.WeightHH.Grad.Data, nil, hprev, r.WeightHH.Value.Data, dpre, n, r.Hidden, g, false)
	addTo(r.BiasHH.Grad.Data, colSums(dpre, n, g))
	return linearBackward(r.WeightIH.Grad.Data, r.BiasIH.Grad.Data, x, r.WeightIH.Value.Data, dpre, n, r.In, g, true)
}

// RNN is PyTorch's single-layer nn.RNN with tanh, batch_first, and zero
// initial state: for x [B×T×In],
//
//	h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh),  h_{-1} = 0
//
// and the output is every h_t, [B×T×Hidden]. Backward is backpropagation
// through time over the whole sequence.
type RNN struct {
	recurrent

	x *Tensor
	h []float32 // h_t of the latest Forward, [B×T×Hidden]
}

// NewRNN returns an RNN with PyTorch's default initialisation distribution
// (see newRecurrent).
func NewRNN(in, hidden int, rng *sample.RNG) (*RNN, error) {
	r, err := newRecurrent(in, hidden, 1, rng)
	if err != nil {
		return nil, fmt.Errorf("NewRNN(%d, %d): %w", in, hidden, err)
	}
	return &RNN{recurrent: r}, nil
}

// Params implements Layer: weight_ih [H×In], weight_hh [H×H], bias_ih,
// bias_hh [H].
func (l *RNN) Params() []*Param { return l.params() }

// Forward implements Layer.
func (l *RNN) Forward(x *Tensor) (*Tensor, error) {
	b, t, err := l.check("RNN.Forward", 1, x)
	if err != nil {
		return nil, err
	}
	hd := l.Hidden
	pre := l.project(x.Data, b*t, hd)
	y := zeros(b, t, hd)
	h := make([]float32, b*hd) // h_{t-1} of every sequence
	step := make([]float32, b*hd)
	for s := range t {
		for bi := range b {
			copy(step[bi*hd:(bi+1)*hd], pre[(bi*t+s)*hd:])
		}
		l.stepHidden(step, h, b, hd)
		for bi := range b {
			for j := range hd {
				v := tanh(step[bi*hd+j])
				h[bi*hd+j] = v
				y.Data[(bi*t+s)*hd+j] = v
			}
		}
	}
	l.x, l.h = x, y.Data
	return y, nil
}

// Backward implements Layer.
func (l *RNN) Backward(dy *Tensor) (*Tensor, error) {
	const op = "RNN.Backward"
	if l.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := l.checkParams(op, 1); err != nil {
		return nil, err
	}
	b, t, hd := l.x.Shape[0], l.x.Shape[1], l.Hidden
	if l.x.Shape[2] != l.In || len(l.h) != b*t*hd {
		return nil, fmt.Errorf("%s: %w: sizes changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, []int{b, t, hd}); err != nil {
		return nil, err
	}
	dpre := make([]float32, b*t*hd)
	hprev := make([]float32, b*t*hd)
	dh := make([]float32, b*hd) // gradient flowing into h_t from step t+1
	step := make([]float32, b*hd)
	whhT := transpose(l.WeightHH.Value.Data, hd, hd)
	for s := t - 1; s >= 0; s-- {
		for bi := range b {
			for j := range hd {
				i := (bi*t+s)*hd + j
				g := dy.Data[i] + dh[bi*hd+j]
				h := l.h[i]
				v := g * (1 - float32(h*h))
				dpre[i] = v
				step[bi*hd+j] = v
				if s > 0 {
					hprev[i] = l.h[i-hd]
				}
			}
		}
		// dh_{t-1} = dpre_t·W_hh
		mulABt(dh, step, whhT, b, hd, hd)
	}
	dx := l.finish(l.x.Data, dpre, hprev, b*t, hd)
	return &Tensor{Shape: []int{b, t, l.In}, Data: dx}, nil
}

// LSTM is PyTorch's single-layer nn.LSTM, batch_first, zero initial
// states, with PyTorch's gate order i, f, g, o in the rows of its weights:
//
//	[i f g o] = x_t·W_ihᵀ + b_ih + h_{t-1}·W_hhᵀ + b_hh
//	i, f, o = sigmoid(·); g = tanh(·)
//	c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t);  h_{-1} = c_{-1} = 0
//
// The output is every h_t, [B×T×Hidden]. Backward is backpropagation
// through time over the whole sequence.
type LSTM struct {
	recurrent

	x     *Tensor
	gates []float32 // activated i, f, g, o per (b, t): [B×T×4·Hidden]
	c, tc []float32 // c_t and tanh(c_t), [B×T×Hidden]
	h     []float32 // h_t, [B×T×Hidden]
}

// NewLSTM returns an LSTM with PyTorch's default initialisation
// distribution (see newRecurrent).
func NewLSTM(in, hidden int, rng *sample.RNG) (*LSTM, error) {
	r, err := newRecurrent(in, hidden, 4, rng)
	if err != nil {
		return nil, fmt.Errorf("NewLSTM(%d, %d): %w", in, hidden, err)
	}
	return &LSTM{recurrent: r}, nil
}

// Params implements Layer: weight_ih [4H×In], weight_hh [4H×H], bias_ih,
// bias_hh [4H].
func (l *LSTM) Params() []*Param { return l.params() }

// Forward implements Layer.
func (l *LSTM) Forward(x *Tensor) (*Tensor, error) {
	b, t, err := l.check("LSTM.Forward", 4, x)
	if err != nil {
		return nil, err
	}
	hd := l.Hidden
	g4 := 4 * hd
	pre := l.project(x.Data, b*t, g4)
	gates := make([]float32, b*t*g4)
	c, tc := make([]float32, b*t*hd), make([]float32, b*t*hd)
	y := zeros(b, t, hd)
	h := make([]float32, b*hd)
	cprev := make([]float32, b*hd)
	step := make([]float32, b*g4)
	for s := range t {
		for bi := range b {
			copy(step[bi*g4:(bi+1)*g4], pre[(bi*t+s)*g4:])
		}
		l.stepHidden(step, h, b, g4)
		for bi := range b {
			row := bi*t + s
			gt := gates[row*g4 : (row+1)*g4]
			for j := range hd {
				ig := sigmoid(step[bi*g4+j])
				fg := sigmoid(step[bi*g4+hd+j])
				gg := tanh(step[bi*g4+2*hd+j])
				og := sigmoid(step[bi*g4+3*hd+j])
				gt[j], gt[hd+j], gt[2*hd+j], gt[3*hd+j] = ig, fg, gg, og
				cv := float32(fg*cprev[bi*hd+j]) + float32(ig*gg)
				tv := tanh(cv)
				hv := og * tv
				c[row*hd+j], tc[row*hd+j] = cv, tv
				cprev[bi*hd+j], h[bi*hd+j] = cv, hv
				y.Data[row*hd+j] = hv
			}
		}
	}
	l.x, l.gates, l.c, l.tc, l.h = x, gates, c, tc, y.Data
	return y, nil
}

// Backward implements Layer.
func (l *LSTM) Backward(dy *Tensor) (*Tensor, error) {
	const op = "LSTM.Backward"
	if l.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := l.checkParams(op, 4); err != nil {
		return nil, err
	}
	b, t, hd := l.x.Shape[0], l.x.Shape[1], l.Hidden
	if l.x.Shape[2] != l.In || len(l.h) != b*t*hd {
		return nil, fmt.Errorf("%s: %w: sizes changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, []int{b, t, hd}); err != nil {
		return nil, err
	}
	g4 := 4 * hd
	dpre := make([]float32, b*t*g4)
	hprev := make([]float32, b*t*hd)
	dh := make([]float32, b*hd) // from step t+1 into h_t
	dc := make([]float32, b*hd) // from step t+1 into c_t
	step := make([]float32, b*g4)
	whhT := transpose(l.WeightHH.Value.Data, g4, hd)
	for s := t - 1; s >= 0; s-- {
		for bi := range b {
			row := bi*t + s
			gt := l.gates[row*g4 : (row+1)*g4]
			dg := dpre[row*g4 : (row+1)*g4]
			for j := range hd {
				ig, fg, gg, og := gt[j], gt[hd+j], gt[2*hd+j], gt[3*hd+j]
				tv := l.tc[row*hd+j]
				var cp float32
				if s > 0 {
					cp = l.c[(row-1)*hd+j]
					hprev[row*hd+j] = l.h[(row-1)*hd+j]
				}
				dhv := dy.Data[row*hd+j] + dh[bi*hd+j]
				dcv := dc[bi*hd+j] + float32(float32(dhv*og)*(1-float32(tv*tv)))
				dg[j] = float32(dcv*gg) * float32(ig*(1-ig))
				dg[hd+j] = float32(dcv*cp) * float32(fg*(1-fg))
				dg[2*hd+j] = float32(dcv*ig) * (1 - float32(gg*gg))
				dg[3*hd+j] = float32(dhv*tv) * float32(og*(1-og))
				dc[bi*hd+j] = dcv * fg
			}
			copy(step[bi*g4:(bi+1)*g4], dg)
		}
		// dh_{t-1} = dpre_t·W_hh
		mulABt(dh, step, whhT, b, g4, hd)
	}
	dx := l.finish(l.x.Data, dpre, hprev, b*t, g4)
	return &Tensor{Shape: []int{b, t, l.In}, Data: dx}, nil
}
