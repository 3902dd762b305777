package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/kernels"
)

// LayerNorm is PyTorch's nn.LayerNorm over the last dimension with an
// elementwise affine transform (Ba et al. 2016, "Layer Normalization"):
//
//	y = (x - mean(x)) / sqrt(var(x) + Eps) ⊙ Weight + Bias
//
// with the biased variance. The row mean and variance are summed in
// float64 in index order and rounded once, so they are at least as exact
// as PyTorch's float32 Welford pass.
type LayerNorm struct {
	Dim    int     // length of the normalised last dimension
	Eps    float32 // added to the variance; >= 0
	Weight *Param  // scale, [Dim]
	Bias   *Param  // shift, [Dim]

	x    *Tensor
	xhat []float32 // normalised x
	rstd []float32 // 1/sqrt(var+eps) per row
}

// NewLayerNorm returns a LayerNorm with PyTorch's initialisation: weight 1,
// bias 0. PyTorch's default eps is 1e-5.
func NewLayerNorm(dim int, eps float32) (*LayerNorm, error) {
	if _, err := numel([]int{dim}); err != nil {
		return nil, fmt.Errorf("NewLayerNorm(%d): %w", dim, err)
	}
	if !(eps >= 0) {
		return nil, fmt.Errorf("NewLayerNorm: %w: eps %v", ErrConfig, eps)
	}
	l := &LayerNorm{Dim: dim, Eps: eps, Weight: newParam("weight", dim), Bias: newParam("bias", dim)}
	for i := range l.Weight.Value.Data {
		l.Weight.Value.Data[i] = 1
	}
	return l, nil
}

// Params implements Layer: weight, bias.
func (l *LayerNorm) Params() []*Param { return []*Param{l.Weight, l.Bias} }

func (l *LayerNorm) check(op string) error {
	if !(l.Eps >= 0) || !paramOK(l.Weight, l.Dim) || !paramOK(l.Bias, l.Dim) {
		return fmt.Errorf("%s: %w: LayerNorm dim %d, eps %v, malformed weights", op, ErrConfig, l.Dim, l.Eps)
	}
	return nil
}

// Forward implements Layer.
func (l *LayerNorm) Forward(x *Tensor) (*Tensor, error) {
	const op = "LayerNorm.Forward"
	if err := l.check(op); err != nil {
		return nil, err
	}
	rows, err := checkLast(op, x, l.Dim)
	if err != nil {
		return nil, err
	}
	d := l.Dim
	y := zeros(x.Shape...)
	xhat := make([]float32, x.Len())
	rstd := make([]float32, rows)
	w, b := l.Weight.Value.Data, l.Bias.Value.Data
	for r := range rows {
		xr := x.Data[r*d : (r+1)*d]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mean := float32(s / float64(d))
		var ss float64
		for _, v := range xr {
			c := float64(v - mean)
			ss += float64(c * c)
		}
		rs := float32(1 / math.Sqrt(ss/float64(d)+float64(l.Eps)))
		rstd[r] = rs
		for i, v := range xr {
			xh := (v - mean) * rs
			xhat[r*d+i] = xh
			y.Data[r*d+i] = float32(xh*w[i]) + b[i]
		}
	}
	l.x, l.xhat, l.rstd = x, xhat, rstd
	return y, nil
}

// Backward implements Layer:
//
//	dW += Σ_rows dy ⊙ x̂, dB += Σ_rows dy
//	dx = rstd · (g - mean(g) - x̂ · mean(g ⊙ x̂)),  g = dy ⊙ W
func (l *LayerNorm) Backward(dy *Tensor) (*Tensor, error) {
	const op = "LayerNorm.Backward"
	if l.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := l.check(op); err != nil {
		return nil, err
	}
	if l.x.Shape[len(l.x.Shape)-1] != l.Dim {
		return nil, fmt.Errorf("%s: %w: dim changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, l.x.Shape); err != nil {
		return nil, err
	}
	d := l.Dim
	rows := l.x.Len() / d
	dx := zeros(l.x.Shape...)
	w := l.Weight.Value.Data
	dw, db := make([]float32, d), make([]float32, d)
	g := make([]float32, d)
	for r := range rows {
		dyr, xh := dy.Data[r*d:(r+1)*d], l.xhat[r*d:(r+1)*d]
		for i, v := range dyr {
			g[i] = v * w[i]
			dw[i] += float32(v * xh[i])
			db[i] += v
		}
		n := float32(d)
		mg := sum32(g) / n
		mgx := kernels.Dot(g, xh) / n
		for i, gv := range g {
			dx.Data[r*d+i] = l.rstd[r] * ((gv - mg) - float32(xh[i]*mgx))
		}
	}
	addTo(l.Weight.Grad.Data, dw)
	addTo(l.Bias.Grad.Data, db)
	return dx, nil
}

// RMSNorm is root-mean-square layer normalisation (Zhang and Sennrich 2019)
// as HF's LlamaRMSNorm and PyTorch's nn.RMSNorm compute it:
//
//	y = Weight ⊙ x / sqrt(mean(x²) + Eps)
//
// over the last dimension; the forward pass is kernels.RMSNorm.
type RMSNorm struct {
	Dim    int     // length of the normalised last dimension
	Eps    float32 // added to the mean square; >= 0
	Weight *Param  // scale, [Dim]

	x   *Tensor
	inv []float32 // 1/sqrt(mean(x²)+eps) per row, exactly as kernels.RMSNorm computes it
}

// NewRMSNorm returns an RMSNorm with weight 1.
func NewRMSNorm(dim int, eps float32) (*RMSNorm, error) {
	if _, err := numel([]int{dim}); err != nil {
		return nil, fmt.Errorf("NewRMSNorm(%d): %w", dim, err)
	}
	if !(eps >= 0) {
		return nil, fmt.Errorf("NewRMSNorm: %w: eps %v", ErrConfig, eps)
	}
	l := &RMSNorm{Dim: dim, Eps: eps, Weight: newParam("weight", dim)}
	for i := range l.Weight.Value.Data {
		l.Weight.Value.Data[i] = 1
	}
	return l, nil
}

// Params implements Layer: weight.
func (l *RMSNorm) Params() []*Param { return []*Param{l.Weight} }

func (l *RMSNorm) check(op string) error {
	if !(l.Eps >= 0) || !paramOK(l.Weight, l.Dim) {
		return fmt.Errorf("%s: %w: RMSNorm dim %d, eps %v, malformed weight", op, ErrConfig, l.Dim, l.Eps)
	}
	return nil
}

// Forward implements Layer.
func (l *RMSNorm) Forward(x *Tensor) (*Tensor, error) {
	const op = "RMSNorm.Forward"
	if err := l.check(op); err != nil {
		return nil, err
	}
	rows, err := checkLast(op, x, l.Dim)
	if err != nil {
		return nil, err
	}
	d := l.Dim
	y := zeros(x.Shape...)
	inv := make([]float32, rows)
	for r := range rows {
		xr := x.Data[r*d : (r+1)*d]
		kernels.RMSNorm(y.Data[r*d:(r+1)*d], xr, l.Weight.Value.Data, l.Eps)
		mean := kernels.Dot(xr, xr) / float32(d)
		inv[r] = 1 / float32(math.Sqrt(float64(mean+l.Eps)))
	}
	l.x, l.inv = x, inv
	return y, nil
}

// Backward implements Layer: with x̂ = x·inv and g = dy ⊙ W,
//
//	dW += Σ_rows dy ⊙ x̂,  dx = inv · (g - x̂ · mean(g ⊙ x̂))
func (l *RMSNorm) Backward(dy *Tensor) (*Tensor, error) {
	const op = "RMSNorm.Backward"
	if l.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := l.check(op); err != nil {
		return nil, err
	}
	if l.x.Shape[len(l.x.Shape)-1] != l.Dim {
		return nil, fmt.Errorf("%s: %w: dim changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, l.x.Shape); err != nil {
		return nil, err
	}
	d := l.Dim
	rows := l.x.Len() / d
	dx := zeros(l.x.Shape...)
	w := l.Weight.Value.Data
	dw := make([]float32, d)
	g, xh := make([]float32, d), make([]float32, d)
	for r := range rows {
		dyr, xr := dy.Data[r*d:(r+1)*d], l.x.Data[r*d:(r+1)*d]
		inv := l.inv[r]
		for i, v := range xr {
			xh[i] = v * inv
			g[i] = dyr[i] * w[i]
			dw[i] += float32(dyr[i] * xh[i])
		}
		m := kernels.Dot(g, xh) / float32(d)
		for i, gv := range g {
			dx.Data[r*d+i] = inv * (gv - float32(xh[i]*m))
		}
	}
	addTo(l.Weight.Grad.Data, dw)
	return dx, nil
}
