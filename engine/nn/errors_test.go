package nn

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/loomai/loom/engine/sample"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTensorValidation feeds malformed shapes and data to the tensor
// constructors and Validate.
func TestTensorValidation(t *testing.T) {
	cases := []struct {
		name  string
		build func() error
		want  error
	}{
		{"empty shape", func() error { _, err := NewTensor(); return err }, ErrShape},
		{"zero dimension", func() error { _, err := NewTensor(3, 0); return err }, ErrShape},
		{"negative dimension", func() error { _, err := NewTensor(-1, 4); return err }, ErrShape},
		{"overflowing shape", func() error { _, err := NewTensor(math.MaxInt, math.MaxInt); return err }, ErrTooLarge},
		{"over MaxElements", func() error { _, err := NewTensor(MaxElements, 2); return err }, ErrTooLarge},
		{"data too short", func() error { _, err := TensorFrom(make([]float32, 5), 2, 3); return err }, ErrShape},
		{"data too long", func() error { _, err := TensorFrom(make([]float32, 7), 2, 3); return err }, ErrShape},
		{"nil tensor", func() error { var x *Tensor; return x.Validate() }, ErrShape},
		{"tampered data", func() error { x, _ := NewTensor(2, 3); x.Data = x.Data[:4]; return x.Validate() }, ErrShape},
		{"tampered shape", func() error { x, _ := NewTensor(2, 3); x.Shape[1] = 0; return x.Validate() }, ErrShape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorIs(t, c.build(), c.want)
		})
	}
	x, err := TensorFrom([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	require.NoError(t, err)
	assert.NoError(t, x.Validate())
	y := x.Clone()
	y.Data[0], y.Shape[0] = 9, 1
	assert.Equal(t, float32(1), x.Data[0], "Clone copies the data")
	assert.Equal(t, 2, x.Shape[0], "Clone copies the shape")
}

// TestLayerInputErrors gives every layer inputs it must reject, and calls
// Backward before Forward and with a gradient of the wrong shape. Nothing
// may panic; every error must match its sentinel.
func TestLayerInputErrors(t *testing.T) {
	layers, shapes := everyLayer(t, 3)
	rng := sample.NewRNG(4)
	for i, l := range layers {
		t.Run(fmt.Sprint(i, typeName(l), shapes[i]), func(t *testing.T) {
			_, err := l.Backward(randTensor(t, rng, 1, shapes[i]...))
			// Backward first: no Forward to differentiate. (Sequential and
			// Residual report the first inner layer's ErrNoForward;
			// a shape mismatch may be caught first where the output shape
			// differs from the input shape.)
			if !errors.Is(err, ErrNoForward) {
				assert.ErrorIs(t, err, ErrShape)
			}

			var nilTensor *Tensor
			_, err = l.Forward(nilTensor)
			assert.ErrorIs(t, err, ErrShape, "nil input")

			bad := randTensor(t, rng, 1, shapes[i]...)
			bad.Data = bad.Data[:len(bad.Data)-1]
			_, err = l.Forward(bad)
			assert.ErrorIs(t, err, ErrShape, "data shorter than shape")

			if !rowWise(l) {
				wrong := append([]int(nil), shapes[i]...)
				if _, ok := l.(*Conv2D); ok {
					wrong[1]++ // channels; any spatial size is valid
				} else {
					wrong[len(wrong)-1]++
				}
				_, err = l.Forward(randTensor(t, rng, 1, wrong...))
				assert.ErrorIs(t, err, ErrShape, "last dimension %v", wrong)
			}

			y, err := l.Forward(randTensor(t, rng, 1, shapes[i]...))
			require.NoError(t, err)
			wrong := append([]int{1}, y.Shape...)
			_, err = l.Backward(randTensor(t, rng, 1, wrong...))
			assert.ErrorIs(t, err, ErrShape, "gradient shape %v", wrong)
			_, err = l.Backward(nilTensor)
			assert.ErrorIs(t, err, ErrShape, "nil gradient")
		})
	}
}

// rowWise reports whether l accepts rows of any length.
func rowWise(l Layer) bool {
	switch l.(type) {
	case *Softmax, *TemperatureSoftmax, *GumbelSoftmax, *Sparsemax, *Entmax15, *AdaptiveSoftmax, *TopKSoftmax:
		return true
	}
	return false
}

// TestConfigErrors checks that invalid settings are ErrConfig (or
// ErrTooLarge for sizes) at construction or on Forward, never a panic.
func TestConfigErrors(t *testing.T) {
	rng := sample.NewRNG(5)
	x, err := NewTensor(2, 4)
	require.NoError(t, err)
	img, err := NewTensor(1, 1, 4, 4)
	require.NoError(t, err)
	seq, err := NewTensor(1, 3, 4)
	require.NoError(t, err)
	conv := Conv2DConfig{InChannels: 1, OutChannels: 1, Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	cases := []struct {
		name string
		run  func() error
		want error
	}{
		{"dense zero inputs", func() error { _, err := NewDense(0, 3, ReLU, rng); return err }, ErrShape},
		{"dense huge", func() error { _, err := NewDense(1<<20, 1<<20, ReLU, rng); return err }, ErrTooLarge},
		{"dense unknown activation", func() error { _, err := NewDense(4, 3, LeakyReLU+1, rng); return err }, ErrConfig},
		{"dense weights replaced", func() error {
			d, _ := NewDense(4, 3, ReLU, rng)
			d.Weight.Value = zeros(3, 5)
			_, err := d.Forward(x)
			return err
		}, ErrConfig},
		{"dense gradient tensor missing", func() error {
			d, _ := NewDense(4, 3, ReLU, rng)
			d.Bias.Grad = nil
			_, err := d.Forward(x)
			return err
		}, ErrConfig},
		{"dense resized between passes", func() error {
			d, _ := NewDense(4, 3, ReLU, rng)
			y, _ := d.Forward(x)
			d.In, d.Weight, d.Bias = 2, newParam("weight", 3, 2), newParam("bias", 3)
			_, err := d.Backward(y)
			return err
		}, ErrConfig},
		{"conv zero stride", func() error { c := conv; c.Stride[0] = 0; _, err := NewConv2D(c, rng); return err }, ErrConfig},
		{"conv negative padding", func() error { c := conv; c.Padding[1] = -1; _, err := NewConv2D(c, rng); return err }, ErrConfig},
		{"conv huge dilation", func() error { c := conv; c.Dilation[0] = math.MaxInt; _, err := NewConv2D(c, rng); return err }, ErrConfig},
		{"conv kernel larger than input", func() error {
			c := conv
			c.Kernel, c.Dilation = [2]int{3, 3}, [2]int{2, 2}
			l, _ := NewConv2D(c, rng)
			_, err := l.Forward(img)
			return err
		}, ErrShape},
		{"conv changed between passes", func() error {
			l, _ := NewConv2D(conv, rng)
			y, _ := l.Forward(img)
			l.Stride = [2]int{2, 2}
			_, err := l.Backward(y)
			return err
		}, ErrConfig},
		{"attention heads not a multiple", func() error {
			_, err := NewAttention(AttentionConfig{Dim: 4, Heads: 3, KVHeads: 2, HeadDim: 2}, rng)
			return err
		}, ErrConfig},
		{"attention changed between passes", func() error {
			a, _ := NewAttention(AttentionConfig{Dim: 4, Heads: 2, KVHeads: 1, HeadDim: 2}, rng)
			y, _ := a.Forward(seq)
			a.Causal = true
			_, err := a.Backward(y)
			return err
		}, ErrConfig},
		{"rnn zero hidden", func() error { _, err := NewRNN(4, 0, rng); return err }, ErrShape},
		{"lstm rank 2 input", func() error { l, _ := NewLSTM(4, 3, rng); _, err := l.Forward(x); return err }, ErrShape},
		{"layernorm NaN eps", func() error { _, err := NewLayerNorm(4, float32(math.NaN())); return err }, ErrConfig},
		{"rmsnorm negative eps", func() error { _, err := NewRMSNorm(4, -1); return err }, ErrConfig},
		{"temperature zero", func() error { _, err := (&TemperatureSoftmax{}).Forward(x); return err }, ErrConfig},
		{"temperature infinite", func() error {
			_, err := (&TemperatureSoftmax{Temperature: float32(math.Inf(1))}).Forward(x)
			return err
		}, ErrConfig},
		{"mask length", func() error { _, err := (&MaskedSoftmax{Mask: []bool{true}}).Forward(x); return err }, ErrShape},
		{"mask keeps nothing", func() error { _, err := (&MaskedSoftmax{Mask: make([]bool, 4)}).Forward(x); return err }, ErrAllMasked},
		{"top-k zero", func() error { _, err := (&TopKSoftmax{}).Forward(x); return err }, ErrConfig},
		{"top-k above row", func() error { _, err := (&TopKSoftmax{K: 5}).Forward(x); return err }, ErrConfig},
		{"gumbel without rng", func() error { _, err := (&GumbelSoftmax{Tau: 1}).Forward(x); return err }, ErrConfig},
		{"gumbel zero tau", func() error { _, err := NewGumbelSoftmax(0, 1).Forward(x); return err }, ErrConfig},
		{"hierarchical zero groups", func() error { _, err := (&HierarchicalSoftmax{GroupSize: 3}).Forward(x); return err }, ErrConfig},
		{"hierarchical wrong row", func() error {
			_, err := (&HierarchicalSoftmax{Groups: 2, GroupSize: 2}).Forward(x)
			return err
		}, ErrShape},
		{"hierarchical huge", func() error {
			_, err := (&HierarchicalSoftmax{Groups: math.MaxInt, GroupSize: math.MaxInt}).Forward(x)
			return err
		}, ErrTooLarge},
		{"mixture changed between passes", func() error {
			m := &MixtureSoftmax{Components: 1, Classes: 3}
			y, _ := m.Forward(x)
			m.Classes = 1
			_, err := m.Backward(y)
			return err
		}, ErrConfig},
		{"sequential nil layer", func() error { _, err := (&Sequential{Layers: []Layer{nil}}).Forward(x); return err }, ErrConfig},
		{"residual nil layer", func() error { _, err := (&Residual{}).Forward(x); return err }, ErrConfig},
		{"residual shape-changing layer", func() error {
			d, _ := NewDense(4, 3, ReLU, rng)
			_, err := (&Residual{F: d}).Forward(x)
			return err
		}, ErrShape},
		{"adaptive without parameter", func() error { _, err := (&AdaptiveSoftmax{}).Forward(x); return err }, ErrConfig},
		{"sgd nesterov without momentum", func() error { _, err := NewSGD(nil, SGDConfig{LR: 0.1, Nesterov: true}); return err }, ErrConfig},
		{"sgd NaN lr", func() error { _, err := NewSGD(nil, SGDConfig{LR: math.NaN()}); return err }, ErrConfig},
		{"sgd nil parameter", func() error { _, err := NewSGD([]*Param{nil}, SGDConfig{LR: 0.1}); return err }, ErrConfig},
		{"adamw beta1 of 1", func() error { _, err := NewAdamW(nil, AdamWConfig{LR: 1e-3, Beta1: 1, Beta2: 0.9}); return err }, ErrConfig},
		{"adamw parameter grad shape", func() error {
			_, err := NewAdamW([]*Param{{Value: zeros(2), Grad: zeros(3)}}, AdamWConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99})
			return err
		}, ErrConfig},
		{"clip negative max norm", func() error { _, err := ClipGradNorm(nil, -1); return err }, ErrConfig},
		{"clip non-finite", func() error {
			p := &Param{Value: zeros(2), Grad: zeros(2)}
			p.Grad.Data[0] = float32(math.Inf(1))
			_, err := ClipGradNorm([]*Param{p}, 1)
			return err
		}, ErrNonFinite},
		{"cross-entropy target above", func() error { _, _, err := CrossEntropy(x, []int{0, 4}, IgnoreIndex); return err }, ErrTarget},
		{"cross-entropy negative target", func() error { _, _, err := CrossEntropy(x, []int{-1, 0}, IgnoreIndex); return err }, ErrTarget},
		{"cross-entropy target count", func() error { _, _, err := CrossEntropy(x, []int{0}, IgnoreIndex); return err }, ErrShape},
		{"mse shapes", func() error { _, _, err := MSE(x, img); return err }, ErrShape},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.ErrorIs(t, c.run(), c.want)
		})
	}
}

// TestNonFiniteRows checks the documented NaN behaviour of the sorting
// variants: a row with a NaN or an infinity gives NaN, the other rows are
// unaffected.
func TestNonFiniteRows(t *testing.T) {
	x, err := TensorFrom([]float32{0.5, float32(math.NaN()), -1, 2, 0.25, 1, -1, 0.5, float32(math.Inf(1)), 0, 1, 2}, 3, 4)
	require.NoError(t, err)
	for _, l := range []Layer{&Sparsemax{}, &Entmax15{}, &TopKSoftmax{K: 2}} {
		t.Run(typeName(l), func(t *testing.T) {
			y, err := l.Forward(x)
			require.NoError(t, err)
			for _, v := range y.Data[:4] {
				assert.True(t, math.IsNaN(float64(v)), "NaN row")
			}
			var s float32
			for _, v := range y.Data[4:8] {
				assert.False(t, math.IsNaN(float64(v)))
				s += v
			}
			assert.InDelta(t, 1, s, 1e-6, "finite row sums to 1")
			dy, err := NewTensor(3, 4)
			require.NoError(t, err)
			_, err = l.Backward(dy)
			assert.NoError(t, err)
		})
	}
}

// TestCrossEntropyAllIgnored checks the documented departure from
// PyTorch (which returns NaN): a batch whose targets are all ignored has
// loss 0 and a zero gradient.
func TestCrossEntropyAllIgnored(t *testing.T) {
	x, err := TensorFrom([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	require.NoError(t, err)
	loss, grad, err := CrossEntropy(x, []int{IgnoreIndex, IgnoreIndex}, IgnoreIndex)
	require.NoError(t, err)
	assert.Zero(t, loss)
	assert.Equal(t, make([]float32, 6), grad.Data)
}

// typeName returns l's type name without package and pointer ("Dense").
func typeName(l Layer) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", l), "*nn.")
}

// TestOptimizerConfigChangedToInvalid checks that Step rejects a Config
// edited into an invalid setting and leaves the parameters alone.
func TestOptimizerConfigChangedToInvalid(t *testing.T) {
	p := &Param{Name: "p", Value: zeros(3), Grad: zeros(3)}
	p.Value.Data[0], p.Grad.Data[0] = 1, 1
	sgd, err := NewSGD([]*Param{p}, SGDConfig{LR: 0.1})
	require.NoError(t, err)
	sgd.Config.LR = math.Inf(1)
	assert.ErrorIs(t, sgd.Step(), ErrConfig)
	adam, err := NewAdamW([]*Param{p}, AdamWConfig{LR: 0.1, Beta1: 0.9, Beta2: 0.99})
	require.NoError(t, err)
	adam.Config.Beta2 = 1
	assert.ErrorIs(t, adam.Step(), ErrConfig)
	assert.Equal(t, []float32{1, 0, 0}, p.Value.Data)
}
