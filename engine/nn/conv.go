package nn

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/sample"
)

// Conv2DConfig describes a Conv2D layer. The pairs are (height, width), as
// in PyTorch's nn.Conv2d; every value must be at least 1, except Padding,
// which must be at least 0.
type Conv2DConfig struct {
	InChannels  int    // C, channels of the input
	OutChannels int    // F, filters, the channels of the output
	Kernel      [2]int // kernel height and width
	Stride      [2]int // step between output positions, in input pixels
	Padding     [2]int // zero padding added on both sides
	Dilation    [2]int // spacing between kernel taps
}

// Conv2D is PyTorch's nn.Conv2d (groups 1, zero padding) on NCHW tensors:
// for input x [N×C×H×W], Weight [F×C×KH×KW] and Bias [F],
//
//	y[n,f,i,j] = b[f] + Σ_{c,u,v} W[f,c,u,v] · x[n, c, i·SH + u·DH - PH, j·SW + v·DW - PW]
//
// where taps outside the input read 0, and the output is [N×F×OH×OW] with
// OH = (H + 2·PH - DH·(KH-1) - 1)/SH + 1 (floor division), likewise OW.
// Each output element is one canonical dot product over (c, u, v) in
// row-major order, plus the bias.
type Conv2D struct {
	Conv2DConfig
	Weight *Param // [F×C×KH×KW]
	Bias   *Param // [F]

	x          *Tensor
	cfg        Conv2DConfig // the configuration of the latest Forward
	col        []float32    // im2col of x: [N·OH·OW × C·KH·KW]
	outShape   []int
	outH, outW int
}

// NewConv2D returns a Conv2D layer with PyTorch's default initialisation
// distribution: weight and bias uniform in [-1/sqrt(C·KH·KW),
// 1/sqrt(C·KH·KW)), drawn from rng (weight first, row-major).
func NewConv2D(c Conv2DConfig, rng *sample.RNG) (*Conv2D, error) {
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("NewConv2D: %w", err)
	}
	l := &Conv2D{Conv2DConfig: c,
		Weight: newParam("weight", c.OutChannels, c.InChannels, c.Kernel[0], c.Kernel[1]),
		Bias:   newParam("bias", c.OutChannels)}
	bound := float32(1 / math.Sqrt(float64(c.InChannels*c.Kernel[0]*c.Kernel[1])))
	initUniform(l.Weight.Value, bound, rng)
	initUniform(l.Bias.Value, bound, rng)
	return l, nil
}

// validate checks the ranges of the settings and bounds the weight size.
func (c *Conv2DConfig) validate() error {
	for i := range 2 {
		if c.Kernel[i] < 1 || c.Stride[i] < 1 || c.Dilation[i] < 1 || c.Padding[i] < 0 ||
			c.Stride[i] > MaxElements || c.Dilation[i] > MaxElements || c.Padding[i] > MaxElements {
			return fmt.Errorf("%w: Conv2D kernel %v, stride %v, padding %v, dilation %v", ErrConfig, c.Kernel, c.Stride, c.Padding, c.Dilation)
		}
	}
	if _, err := numel([]int{c.OutChannels, c.InChannels, c.Kernel[0], c.Kernel[1]}); err != nil {
		return fmt.Errorf("Conv2D weight: %w", err)
	}
	return nil
}

// Params implements Layer: weight, bias.
func (l *Conv2D) Params() []*Param { return []*Param{l.Weight, l.Bias} }

func (l *Conv2D) check(op string) error {
	if err := l.validate(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	c := l.Conv2DConfig
	if !paramOK(l.Weight, c.OutChannels, c.InChannels, c.Kernel[0], c.Kernel[1]) || !paramOK(l.Bias, c.OutChannels) {
		return fmt.Errorf("%s: %w: malformed Conv2D weights", op, ErrConfig)
	}
	return nil
}

// outSize returns the output length of one spatial axis, or an error when
// the dilated kernel does not fit in the padded input.
func outSize(in, kernel, stride, pad, dil int) (int, error) {
	padded := in + 2*pad // every term is at most MaxElements
	if kernel > 1 && dil > (padded-1)/(kernel-1) {
		return 0, fmt.Errorf("%w: kernel %d with dilation %d does not fit input %d with padding %d", ErrShape, kernel, dil, in, pad)
	}
	return (padded-dil*(kernel-1)-1)/stride + 1, nil
}

// Forward implements Layer.
func (l *Conv2D) Forward(x *Tensor) (*Tensor, error) {
	const op = "Conv2D.Forward"
	if err := l.check(op); err != nil {
		return nil, err
	}
	if err := x.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(x.Shape) != 4 || x.Shape[1] != l.InChannels {
		return nil, fmt.Errorf("%s: %w: input %v, want [N %d H W]", op, ErrShape, x.Shape, l.InChannels)
	}
	n, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	oh, err := outSize(h, l.Kernel[0], l.Stride[0], l.Padding[0], l.Dilation[0])
	if err != nil {
		return nil, fmt.Errorf("%s: height: %w", op, err)
	}
	ow, err := outSize(w, l.Kernel[1], l.Stride[1], l.Padding[1], l.Dilation[1])
	if err != nil {
		return nil, fmt.Errorf("%s: width: %w", op, err)
	}
	ckk := l.InChannels * l.Kernel[0] * l.Kernel[1]
	f := l.OutChannels
	if _, err := numel([]int{n, oh, ow, max(ckk, f)}); err != nil {
		return nil, fmt.Errorf("%s: im2col buffer: %w", op, err)
	}
	l.outH, l.outW = oh, ow
	col := l.im2col(x)
	p := oh * ow
	tmp := make([]float32, n*p*f)
	mulABt(tmp, col, l.Weight.Value.Data, n*p, ckk, f)
	y := zeros(n, f, oh, ow)
	b := l.Bias.Value.Data
	for i := range n {
		for q := range p {
			row := tmp[(i*p+q)*f : (i*p+q+1)*f]
			for o, v := range row {
				y.Data[(i*f+o)*p+q] = v + b[o]
			}
		}
	}
	l.x, l.cfg, l.col, l.outShape = x, l.Conv2DConfig, col, y.Shape
	return y, nil
}

// tap returns the input index of kernel tap k at output position o along
// one axis, and whether it lies inside the input (else it reads padding).
func tap(o, k, stride, pad, dil, size int) (int, bool) {
	i := o*stride + k*dil - pad
	return i, i >= 0 && i < size
}

// im2col lays out x's receptive fields as rows: row (n·OH + i)·OW + j holds,
// in (c, u, v) order, the input values under the kernel at output (i, j) of
// image n, 0 for padding.
func (l *Conv2D) im2col(x *Tensor) []float32 {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	kh, kw := l.Kernel[0], l.Kernel[1]
	ckk := c * kh * kw
	col := make([]float32, n*l.outH*l.outW*ckk)
	for b := range n {
		for i := range l.outH {
			for j := range l.outW {
				row := col[((b*l.outH+i)*l.outW+j)*ckk:]
				for ch := range c {
					plane := x.Data[(b*c+ch)*h*w:]
					for u := range kh {
						ih, okh := tap(i, u, l.Stride[0], l.Padding[0], l.Dilation[0], h)
						for v := range kw {
							iw, okw := tap(j, v, l.Stride[1], l.Padding[1], l.Dilation[1], w)
							if okh && okw {
								row[(ch*kh+u)*kw+v] = plane[ih*w+iw]
							}
						}
					}
				}
			}
		}
	}
	return col
}

// Backward implements Layer.
func (l *Conv2D) Backward(dy *Tensor) (*Tensor, error) {
	const op = "Conv2D.Backward"
	if l.x == nil {
		return nil, fmt.Errorf("%s: %w", op, ErrNoForward)
	}
	if err := l.check(op); err != nil {
		return nil, err
	}
	if l.cfg != l.Conv2DConfig {
		return nil, fmt.Errorf("%s: %w: configuration changed since Forward", op, ErrConfig)
	}
	if err := checkGrad(op, dy, l.outShape); err != nil {
		return nil, err
	}
	n, c, h, w := l.x.Shape[0], l.x.Shape[1], l.x.Shape[2], l.x.Shape[3]
	kh, kw := l.Kernel[0], l.Kernel[1]
	ckk := c * kh * kw
	f, p := l.OutChannels, l.outH*l.outW
	// dyr: the output gradient as rows of F values, one per output
	// position, matching im2col's rows.
	dyr := make([]float32, n*p*f)
	for b := range n {
		for o := range f {
			for q, g := range dy.Data[(b*f+o)*p : (b*f+o+1)*p] {
				dyr[(b*p+q)*f+o] = g
			}
		}
	}
	dcol := linearBackward(l.Weight.Grad.Data, l.Bias.Grad.Data, l.col, l.Weight.Value.Data, dyr, n*p, ckk, f, true)
	// col2im: scatter the column gradients back, in the row order of
	// im2col, skipping padding.
	dx := zeros(l.x.Shape...)
	for b := range n {
		for i := range l.outH {
			for j := range l.outW {
				row := dcol[((b*l.outH+i)*l.outW+j)*ckk:]
				for ch := range c {
					plane := dx.Data[(b*c+ch)*h*w:]
					for u := range kh {
						ih, okh := tap(i, u, l.Stride[0], l.Padding[0], l.Dilation[0], h)
						for v := range kw {
							iw, okw := tap(j, v, l.Stride[1], l.Padding[1], l.Dilation[1], w)
							if okh && okw {
								plane[ih*w+iw] += row[(ch*kh+u)*kw+v]
							}
						}
					}
				}
			}
		}
	}
	return dx, nil
}
