package nn

import (
	"testing"

	"github.com/loomai/loom/engine/sample"
	"github.com/stretchr/testify/require"
)

// BenchmarkDense measures one forward and one backward pass of a Dense
// 256→256 tanh layer on a batch of 32 (one thread).
func BenchmarkDense(b *testing.B) {
	rng := sample.NewRNG(1)
	d, err := NewDense(256, 256, Tanh, rng)
	require.NoError(b, err)
	x := randTensor(b, rng, 1, 32, 256)
	dy := randTensor(b, rng, 1, 32, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Forward(x); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Backward(dy); err != nil {
			b.Fatal(err)
		}
	}
	// 2·32·256·256 flops forward, twice that backward.
	b.ReportMetric(float64(6*32*256*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkAttention measures one forward and one backward pass of causal
// grouped-query attention, Dim 256, 8 query heads, 2 key/value heads of 32,
// over one sequence of 64 positions (one thread).
func BenchmarkAttention(b *testing.B) {
	rng := sample.NewRNG(1)
	a, err := NewAttention(AttentionConfig{Dim: 256, Heads: 8, KVHeads: 2, HeadDim: 32, Causal: true}, rng)
	require.NoError(b, err)
	x := randTensor(b, rng, 1, 1, 64, 256)
	dy := randTensor(b, rng, 1, 1, 64, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Forward(x); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Backward(dy); err != nil {
			b.Fatal(err)
		}
	}
}
