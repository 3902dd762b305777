package train

import (
	"fmt"
	"testing"

	"github.com/loomai/loom/kernels"
	"github.com/stretchr/testify/require"
)

// BenchmarkTrainStep measures one full training step (forward, backward,
// clipping, AdamW) at the demo model's size and reports tokens per second.
func BenchmarkTrainStep(b *testing.B) {
	for _, c := range []struct {
		layers, hidden, inter, vocab, batch, ctx, threads int
	}{
		{6, 256, 768, 6144, 8, 256, 1},
		{6, 256, 768, 6144, 8, 256, 2},
	} {
		b.Run(fmt.Sprintf("L%d-H%d-V%d-B%dx%d/threads=%d", c.layers, c.hidden, c.vocab, c.batch, c.ctx, c.threads), func(b *testing.B) {
			s := Shape{VocabSize: c.vocab, Hidden: c.hidden, Intermediate: c.inter, Layers: c.layers, Heads: 4, KVHeads: 2,
				Context: c.ctx, RopeTheta: 10000, RMSNormEps: 1e-5, Tied: true, BOS: -1}
			cfg, err := LlamaConfig(s)
			require.NoError(b, err)
			m, err := New(cfg, 0.02, 1)
			require.NoError(b, err)
			stream := make([]int32, c.batch*c.ctx*4+1)
			for i := range stream {
				stream[i] = int32(i * 7919 % c.vocab)
			}
			tr, _, err := Split(stream, c.ctx, 0)
			require.NoError(b, err)
			o := DefaultOptions
			o.Batch, o.Steps = c.batch, b.N+1
			trainer, err := NewTrainer(m, tr, nil, o)
			require.NoError(b, err)
			pool := kernels.NewPool(c.threads)
			defer pool.Close()
			_, err = trainer.Step(pool) // allocate the workspace
			require.NoError(b, err)
			b.ResetTimer()
			for range b.N {
				if _, err := trainer.Step(pool); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*c.batch*c.ctx)/b.Elapsed().Seconds(), "tok/s")
			b.ReportMetric(float64(m.NumParams()), "params")
		})
	}
}
