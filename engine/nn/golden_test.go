package nn

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/loomai/loom/engine/sample"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// torchTol is the acceptance bound against PyTorch: |a-b| <= torchTol·max(1,|b|).
const torchTol = 1e-4

// golden is testdata/golden.json, written by ci/reference/nn_golden.py
// from PyTorch float32 forward passes and autograd.
type golden struct {
	Torch      string        `json:"torch"`
	Layers     []goldenLayer `json:"layers"`
	Losses     []goldenLoss  `json:"losses"`
	Optimizers []goldenOptim `json:"optimizers"`
	Clip       []goldenClip  `json:"clip"`
}

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float32 `json:"data"`
}

func (g goldenTensor) tensor(t *testing.T) *Tensor {
	t.Helper()
	x, err := TensorFrom(append([]float32(nil), g.Data...), g.Shape...)
	require.NoError(t, err)
	return x
}

type goldenParam struct {
	Name  string       `json:"name"`
	Value goldenTensor `json:"value"`
	Grad  goldenTensor `json:"grad"`
}

type goldenSpec struct {
	Kind   string       `json:"kind"`
	Config goldenConfig `json:"config"`
}

// goldenConfig is the union of every layer kind's settings.
type goldenConfig struct {
	In          int          `json:"in"`
	Out         int          `json:"out"`
	Activation  string       `json:"activation"`
	Slope       float32      `json:"slope"`
	InChannels  int          `json:"in_channels"`
	OutChannels int          `json:"out_channels"`
	Kernel      [2]int       `json:"kernel"`
	Stride      [2]int       `json:"stride"`
	Padding     [2]int       `json:"padding"`
	Dilation    [2]int       `json:"dilation"`
	Dim         int          `json:"dim"`
	Heads       int          `json:"heads"`
	KVHeads     int          `json:"kv_heads"`
	HeadDim     int          `json:"head_dim"`
	Causal      bool         `json:"causal"`
	Hidden      int          `json:"hidden"`
	Eps         float32      `json:"eps"`
	Temperature float32      `json:"temperature"`
	Mask        []bool       `json:"mask"`
	K           int          `json:"k"`
	Groups      int          `json:"groups"`
	GroupSize   int          `json:"group_size"`
	Tau         float32      `json:"tau"`
	Seed        uint64       `json:"seed"`
	Components  int          `json:"components"`
	Classes     int          `json:"classes"`
	Inner       []goldenSpec `json:"inner"`
}

type goldenLayer struct {
	Name   string        `json:"name"`
	Kind   string        `json:"kind"`
	Config goldenConfig  `json:"config"`
	X      goldenTensor  `json:"x"`
	Params []goldenParam `json:"params"`
	DY     goldenTensor  `json:"dy"`
	Y      goldenTensor  `json:"y"`
	DX     goldenTensor  `json:"dx"`
}

var (
	goldenOnce sync.Once
	goldenData golden
	goldenErr  error
)

func loadGolden(t *testing.T) *golden {
	t.Helper()
	goldenOnce.Do(func() {
		var data []byte
		data, goldenErr = os.ReadFile("testdata/golden.json")
		if goldenErr == nil {
			goldenErr = json.Unmarshal(data, &goldenData)
		}
	})
	require.NoError(t, goldenErr)
	require.NotEmpty(t, goldenData.Layers)
	return &goldenData
}

func parseActivation(t *testing.T, s string) Activation {
	t.Helper()
	for a := Linear; a <= LeakyReLU; a++ {
		if a.String() == s {
			return a
		}
	}
	t.Fatalf("unknown activation %q", s)
	return 0
}

// buildLayer makes the Go layer for a golden spec. Initial values come from
// a fixed RNG and are overwritten with the golden parameters afterwards.
// reset, when non-nil, must run before every Forward (it reseeds the
// Gumbel noise so that every forward pass sees the same noise).
func buildLayer(t *testing.T, s goldenSpec) (l Layer, reset func()) {
	t.Helper()
	c := s.Config
	rng := sample.NewRNG(1)
	var err error
	switch s.Kind {
	case "dense":
		var d *Dense
		d, err = NewDense(c.In, c.Out, parseActivation(t, c.Activation), rng)
		if err == nil && c.Slope != 0 {
			d.NegativeSlope = c.Slope
		}
		l = d
	case "conv2d":
		l, err = NewConv2D(Conv2DConfig{InChannels: c.InChannels, OutChannels: c.OutChannels,
			Kernel: c.Kernel, Stride: c.Stride, Padding: c.Padding, Dilation: c.Dilation}, rng)
	case "attention":
		l, err = NewAttention(AttentionConfig{Dim: c.Dim, Heads: c.Heads, KVHeads: c.KVHeads, HeadDim: c.HeadDim, Causal: c.Causal}, rng)
	case "rnn":
		l, err = NewRNN(c.In, c.Hidden, rng)
	case "lstm":
		l, err = NewLSTM(c.In, c.Hidden, rng)
	case "layernorm":
		l, err = NewLayerNorm(c.Dim, c.Eps)
	case "rmsnorm":
		l, err = NewRMSNorm(c.Dim, c.Eps)
	case "swiglu":
		l, err = NewSwiGLU(c.Dim, c.Hidden, rng)
	case "softmax":
		l = &Softmax{}
	case "softmax_temperature":
		l = &TemperatureSoftmax{Temperature: c.Temperature}
	case "softmax_masked":
		l = &MaskedSoftmax{Mask: c.Mask}
	case "softmax_topk":
		l = &TopKSoftmax{K: c.K}
	case "softmax_hierarchical":
		l = &HierarchicalSoftmax{Groups: c.Groups, GroupSize: c.GroupSize}
	case "softmax_gumbel":
		g := NewGumbelSoftmax(c.Tau, c.Seed)
		l, reset = g, func() { g.RNG = sample.NewRNG(c.Seed) }
	case "sparsemax":
		l = &Sparsemax{}
	case "entmax15":
		l = &Entmax15{}
	case "softmax_adaptive":
		l = NewAdaptiveSoftmax()
	case "softmax_mixture":
		l = &MixtureSoftmax{Components: c.Components, Classes: c.Classes}
	case "residual":
		require.Len(t, c.Inner, 1)
		inner, _ := buildLayer(t, c.Inner[0])
		l = &Residual{F: inner}
	case "sequential":
		seq := &Sequential{}
		for _, in := range c.Inner {
			inner, _ := buildLayer(t, in)
			seq.Layers = append(seq.Layers, inner)
		}
		l = seq
	default:
		t.Fatalf("unknown layer kind %q", s.Kind)
	}
	require.NoError(t, err, s.Kind)
	return l, reset
}

// relErr is the acceptance metric: |a-b| / max(1, |b|).
func relErr(a, b float32) float64 {
	return math.Abs(float64(a)-float64(b)) / math.Max(1, math.Abs(float64(b)))
}

// maxRelErr returns the worst relErr over two equally long slices (+Inf
// for a NaN or a length mismatch).
func maxRelErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range got {
		e := relErr(got[i], want[i])
		if e != e {
			return math.Inf(1)
		}
		worst = math.Max(worst, e)
	}
	return worst
}

// layerErrors are the worst errors of one case: against torch (outputs and
// all gradients) and against finite differences.
type layerErrors struct{ torch, fd float64 }

var (
	summaryMu sync.Mutex
	summary   = map[string]layerErrors{}
)

func record(kind string, e layerErrors) {
	summaryMu.Lock()
	defer summaryMu.Unlock()
	s := summary[kind]
	summary[kind] = layerErrors{math.Max(s.torch, e.torch), math.Max(s.fd, e.fd)}
}

// TestLayersAgainstTorch runs every golden layer case: the forward output,
// the input gradient and every parameter gradient must match PyTorch
// within torchTol, and the gradients must match central finite differences
// of the forward pass (see checkFiniteDifferences).
func TestLayersAgainstTorch(t *testing.T) {
	g := loadGolden(t)
	kinds := map[string]bool{}
	for _, c := range g.Layers {
		kinds[c.Kind] = true
		t.Run(c.Name, func(t *testing.T) {
			l, reset := buildLayer(t, goldenSpec{Kind: c.Kind, Config: c.Config})
			params := l.Params()
			require.Len(t, params, len(c.Params))
			for i, p := range params {
				require.Equal(t, c.Params[i].Name, p.Name)
				require.Equal(t, c.Params[i].Value.Shape, p.Value.Shape, p.Name)
				copy(p.Value.Data, c.Params[i].Value.Data)
			}
			x := c.X.tensor(t)
			if reset != nil {
				reset()
			}
			y, err := l.Forward(x)
			require.NoError(t, err)
			require.Equal(t, c.Y.Shape, y.Shape)
			errs := map[string]float64{"y": maxRelErr(y.Data, c.Y.Data)}
			ZeroGrad(params)
			dx, err := l.Backward(c.DY.tensor(t))
			require.NoError(t, err)
			require.Equal(t, c.X.Shape, dx.Shape)
			errs["dx"] = maxRelErr(dx.Data, c.DX.Data)
			for i, p := range params {
				errs["d"+p.Name+fmt.Sprint(i)] = maxRelErr(p.Grad.Data, c.Params[i].Grad.Data)
			}
			worst := 0.0
			for name, e := range errs {
				assert.LessOrEqual(t, e, torchTol, "%s vs torch", name)
				worst = math.Max(worst, e)
			}
			// Finite differences of our own forward pass, independent of
			// both our backward pass and PyTorch.
			fd := checkFiniteDifferences(t, l, reset, x, c.DY.Data, dx.Data)
			t.Logf("max error vs torch %.2e, vs finite differences %.2e", worst, fd)
			record(c.Kind, layerErrors{worst, fd})
		})
	}
	for _, k := range []string{"dense", "conv2d", "attention", "rnn", "lstm", "layernorm", "rmsnorm", "swiglu", "residual", "sequential",
		"softmax", "softmax_temperature", "softmax_masked", "softmax_topk", "softmax_hierarchical", "softmax_gumbel",
		"sparsemax", "entmax15", "softmax_adaptive", "softmax_mixture"} {
		assert.True(t, kinds[k], "no golden case for %s", k)
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(summary)) {
		fmt.Fprintf(&b, "\n  %-22s torch %.2e  finite differences %.2e", k, summary[k].torch, summary[k].fd)
	}
	t.Logf("worst errors per layer kind:%s", b.String())
}
