package nn

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/loomai/loom/engine/sample"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/determinism.sha256 with this build's hash")

// randTensor returns a tensor of the given shape with values uniform in
// [-scale, scale) from rng.
func randTensor(t testing.TB, rng *sample.RNG, scale float32, shape ...int) *Tensor {
	x, err := NewTensor(shape...)
	require.NoError(t, err)
	initUniform(x, scale, rng)
	return x
}

// everyLayer builds one of every layer and softmax variant from seed, each
// with an input shape it accepts.
func everyLayer(t testing.TB, seed uint64) ([]Layer, [][]int) {
	rng := sample.NewRNG(seed)
	must := func(l Layer, err error) Layer {
		require.NoError(t, err)
		return l
	}
	var layers []Layer
	var shapes [][]int
	add := func(l Layer, shape ...int) {
		layers = append(layers, l)
		shapes = append(shapes, shape)
	}
	for a := Linear; a <= LeakyReLU; a++ {
		add(must(NewDense(13, 9, a, rng)), 3, 13)
	}
	add(must(NewConv2D(Conv2DConfig{InChannels: 3, OutChannels: 4, Kernel: [2]int{3, 2}, Stride: [2]int{2, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 2}}, rng)), 2, 3, 9, 8)
	add(must(NewAttention(AttentionConfig{Dim: 16, Heads: 4, KVHeads: 2, HeadDim: 8, Causal: true}, rng)), 2, 7, 16)
	add(must(NewRNN(5, 6, rng)), 2, 6, 5)
	add(must(NewLSTM(5, 6, rng)), 2, 6, 5)
	add(must(NewLayerNorm(11, 1e-5)), 4, 11)
	add(must(NewRMSNorm(11, 1e-6)), 4, 11)
	add(must(NewSwiGLU(10, 24, rng)), 3, 10)
	add(&Residual{F: must(NewSwiGLU(10, 24, rng))}, 3, 10)
	add(&Sequential{Layers: []Layer{must(NewDense(10, 12, Tanh, rng)), must(NewRMSNorm(12, 1e-6)), must(NewDense(12, 5, Linear, rng))}}, 3, 10)
	add(&Softmax{}, 3, 17)
	add(&TemperatureSoftmax{Temperature: 0.6}, 3, 17)
	add(&MaskedSoftmax{Mask: []bool{true, false, true, true, false, true, true, true, true, false, true}}, 3, 11)
	add(&TopKSoftmax{K: 3}, 3, 11)
	add(&HierarchicalSoftmax{Groups: 3, GroupSize: 4}, 3, 15)
	add(NewGumbelSoftmax(0.7, seed), 3, 11)
	add(&Sparsemax{}, 3, 11)
	add(&Entmax15{}, 3, 11)
	adaptive := NewAdaptiveSoftmax()
	adaptive.LogTemp.Value.Data[0] = 0.25
	add(adaptive, 3, 11)
	add(&MixtureSoftmax{Components: 3, Classes: 4}, 3, 15)
	return layers, shapes
}

// trainingRun exercises every layer (forward, backward), both losses, both
// optimisers and clipping from seed, and returns all the bits it produced.
func trainingRun(t testing.TB, seed uint64) []float32 {
	layers, shapes := everyLayer(t, seed)
	rng := sample.NewRNG(seed + 1)
	var out []float32
	for i, l := range layers {
		x := randTensor(t, rng, 2, shapes[i]...)
		y, err := l.Forward(x)
		require.NoError(t, err)
		dy := randTensor(t, rng, 1, y.Shape...)
		dx, err := l.Backward(dy)
		require.NoError(t, err)
		out = append(out, y.Data...)
		out = append(out, dx.Data...)
		for _, p := range l.Params() {
			out = append(out, p.Grad.Data...)
		}
	}
	// A small classifier trained for a few steps with each optimiser.
	for _, useAdam := range []bool{false, true} {
		net := &Sequential{}
		d1, err := NewDense(6, 16, Tanh, rng)
		require.NoError(t, err)
		d2, err := NewDense(16, 4, Linear, rng)
		require.NoError(t, err)
		net.Layers = []Layer{d1, d2}
		var step func() error
		if useAdam {
			o, err := NewAdamW(net.Params(), AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2})
			require.NoError(t, err)
			step = o.Step
		} else {
			o, err := NewSGD(net.Params(), SGDConfig{LR: 0.1, Momentum: 0.9, Nesterov: true})
			require.NoError(t, err)
			step = o.Step
		}
		x := randTensor(t, rng, 1, 8, 6)
		want := randTensor(t, rng, 1, 8, 4)
		targets := []int{0, 1, 2, 3, 3, 2, IgnoreIndex, 0}
		for range 5 {
			ZeroGrad(net.Params())
			logits, err := net.Forward(x)
			require.NoError(t, err)
			loss, grad, err := CrossEntropy(logits, targets, IgnoreIndex)
			require.NoError(t, err)
			_, err = net.Backward(grad)
			require.NoError(t, err)
			norm, err := ClipGradNorm(net.Params(), 0.5)
			require.NoError(t, err)
			require.NoError(t, step())
			mse, _, err := MSE(logits, want)
			require.NoError(t, err)
			out = append(out, loss, norm, mse)
		}
		for _, p := range net.Params() {
			out = append(out, p.Value.Data...)
		}
	}
	return out
}

// bitsHash hashes float32 bits, all NaNs counted as one.
func bitsHash(v []float32) string {
	h := sha256.New()
	var b [4]byte
	for _, x := range v {
		bits := math.Float32bits(x)
		if x != x {
			bits = 0x7fc00000
		}
		binary.LittleEndian.PutUint32(b[:], bits)
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestDeterminism runs the same seeded training twice and requires the
// same bits, and requires a different seed to give different bits (so the
// seed does reach the initialisation and the Gumbel noise).
func TestDeterminism(t *testing.T) {
	a, b := trainingRun(t, 7), trainingRun(t, 7)
	require.Equal(t, len(a), len(b))
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) && !(a[i] != a[i] && b[i] != b[i]) {
			t.Fatalf("value %d differs between two runs: %v vs %v", i, a[i], b[i])
		}
	}
	assert.NotEqual(t, bitsHash(a), bitsHash(trainingRun(t, 8)))
}

// TestDeterminismHash checks that this build computes exactly the bits of
// the build that wrote testdata/determinism.sha256. The hash is not a
// correctness reference (the torch and finite-difference tests are); it
// pins the bits so that every build must agree: `go test`,
// `GOAMD64=v1 go test`, `GOAMD64=v3 go test` (where the compiler could
// fuse multiply-adds if the code let it), -tags noasm, other
// architectures. Refresh it with `go test -run TestDeterminismHash -update`
// only after a deliberate change of the arithmetic.
func TestDeterminismHash(t *testing.T) {
	got := bitsHash(trainingRun(t, 7))
	const path = "testdata/determinism.sha256"
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got+"\n"), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(want)), got)
}
