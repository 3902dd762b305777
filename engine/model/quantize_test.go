package model

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
)

// TestQ8Quality runs every golden model with Q8 weights, teacher-forced
// along HF's float32 greedy continuation (greedy_ids, or greedy_ids_upcast
// for 16-bit weights: the float32 run of the same weights), and requires
// the Q8 argmax to pick HF's id on at least 18 of the 20 steps. It logs how
// far the Q8 logits are from HF's prompt logits and from Loom's own
// float32-compute logits of the unquantized model along the same tokens.
func TestQ8Quality(t *testing.T) {
	worstHF, worstLoom := 0.0, 0.0
	for _, dir := range goldenModels(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			g := readGolden(t, dir)
			q := loadGoldenOpts(t, dir, Options{Threads: 2, Quantize: QuantizeQ8})
			f := loadGolden(t, dir)
			vocab, n := g.VocabSize, len(g.PromptIDs)
			want, hfName := g.GreedyIDs, "logits.f32"
			if g.DType != "float32" {
				want, hfName = g.GreedyIDsUpcast, "logits_upcast.f32"
			}
			require.Len(t, want, 20)

			qc, fc := q.NewCache(0), f.NewCache(0)
			ql, err := q.Forward(qc, g.PromptIDs, true)
			require.NoError(t, err)
			fl, err := f.Forward(fc, g.PromptIDs, true)
			require.NoError(t, err)
			hf := readLogits(t, filepath.Join(dir, hfName), n, vocab)
			dHF := maxAbsDiff(ql, hf)
			dLoom := maxAbsDiff(ql, fl)

			matches := 0
			qrow, frow := ql[(n-1)*vocab:], fl[(n-1)*vocab:]
			for step, id := range want {
				if argmax(qrow) == id {
					matches++
				}
				dLoom = max(dLoom, maxAbsDiff(qrow, frow))
				if step == len(want)-1 {
					break
				}
				qrow, err = q.Forward(qc, []int{id}, false)
				require.NoError(t, err)
				frow, err = f.Forward(fc, []int{id}, false)
				require.NoError(t, err)
			}
			t.Logf("q8 argmax = HF greedy on %d/20 steps; max |Δlogit| vs HF %s (prompt) %.3g, vs Loom unquantized %.3g",
				matches, hfName, dHF, dLoom)
			assert.GreaterOrEqual(t, matches, 18, "q8 greedy steps equal to HF's float32 run")
			worstHF, worstLoom = max(worstHF, dHF), max(worstLoom, dLoom)
		})
	}
	t.Logf("all models: max |Δlogit| vs HF %.3g, vs Loom unquantized %.3g", worstHF, worstLoom)
}

// TestQ8Deterministic checks that a Q8 model keeps Loom's promises: one
// Forward over the prompt gives the same bits as one token at a time, on
// one thread or three.
func TestQ8Deterministic(t *testing.T) {
	for _, name := range []string{"llama-untied", "qwen2-bf16", "mistral"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(modelsDir, name)
			g := readGolden(t, dir)
			one := loadGoldenOpts(t, dir, Options{Threads: 1, Quantize: QuantizeQ8})
			three := loadGoldenOpts(t, dir, Options{Threads: 3, Quantize: QuantizeQ8})
			all, err := one.Forward(one.NewCache(0), g.PromptIDs, true)
			require.NoError(t, err)
			c := three.NewCache(0)
			var steps []float32
			for _, id := range g.PromptIDs {
				row, err := three.Forward(c, []int{id}, false)
				require.NoError(t, err)
				steps = append(steps, row...)
			}
			assert.Equal(t, bitsOf(all), bitsOf(steps))
		})
	}
}

// TestQuantizeOption checks which matrices Q8 converts and that an unknown
// mode is refused.
func TestQuantizeOption(t *testing.T) {
	dir := filepath.Join(modelsDir, "llama-tied-bf16")
	m := loadGoldenOpts(t, dir, Options{Quantize: QuantizeQ8})
	assert.Equal(t, kernels.BF16, m.Embed.DType, "the embedding keeps its dtype")
	assert.Equal(t, kernels.Q8, m.LMHead.DType, "the tied LM head is a Q8 copy")
	for _, ly := range m.Layers {
		for _, w := range []kernels.Mat{ly.Attn.Q, ly.Attn.K, ly.Attn.V, ly.Attn.O, ly.MLP.Gate, ly.MLP.Up, ly.MLP.Down} {
			assert.Equal(t, kernels.Q8, w.DType)
			assert.NoError(t, w.Validate())
		}
	}
	_, err := Load(dir, Options{Quantize: "q4"})
	assert.ErrorIs(t, err, ErrUnsupported)
}

// loadGoldenOpts loads dir with opts.
func loadGoldenOpts(t testing.TB, dir string, opts Options) *Model {
	m, err := Load(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	return m
}

// BenchmarkQ8 is BenchmarkDecodeStep and BenchmarkPrefill for the
// SmolLM2-135M-shaped model with Q8 weights.
func BenchmarkQ8(b *testing.B) {
	cfg, err := config.Parse([]byte(smolLM2Config))
	require.NoError(b, err)
	src := randomSource(b, cfg, safetensors.F32)
	for _, threads := range []int{1, 2} {
		m, err := build(cfg, src, Options{Threads: threads, Quantize: QuantizeQ8})
		require.NoError(b, err)
		b.Run(fmt.Sprintf("decode/threads=%d", threads), func(b *testing.B) {
			const warm = 64
			c := m.NewCache(0)
			_, err := m.Forward(c, promptIDs(warm, m.d.vocab), false)
			require.NoError(b, err)
			for b.Loop() {
				c.Truncate(warm)
				if _, err := m.Forward(c, []int{42}, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
		})
		b.Run(fmt.Sprintf("prefill/threads=%d", threads), func(b *testing.B) {
			const n = 128
			c := m.NewCache(0)
			prompt := promptIDs(n, m.d.vocab)
			for b.Loop() {
				c.Truncate(0)
				if _, err := m.Forward(c, prompt, false); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "tok/s")
		})
		require.NoError(b, m.Close())
	}
}
