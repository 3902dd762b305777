package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
)

// smolLM2Config is SmolLM2-135M's shape (hidden 576, 30 layers, 9 query
// and 3 key/value heads of 64, intermediate 1536, vocabulary 49152, tied
// embeddings).
const smolLM2Config = `{
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "vocab_size": 49152, "hidden_size": 576, "intermediate_size": 1536,
  "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
  "max_position_embeddings": 8192, "rms_norm_eps": 1e-5, "rope_theta": 100000,
  "tie_word_embeddings": true
}`

// memSource is an in-memory tensor set for building a model without files.
type memSource map[string]*safetensors.Tensor

func (s memSource) Tensor(name string) (*safetensors.Tensor, error) {
	t, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, safetensors.ErrMissingTensor)
	}
	return t, nil
}

func (s memSource) Names() []string {
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// splitMix64 is a tiny seeded generator for benchmark weights.
type splitMix64 uint64

func (s *splitMix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// uniform returns a value in [-scale, scale).
func (s *splitMix64) uniform(scale float32) float32 {
	return (float32(s.next()>>40)/float32(1<<24)*2 - 1) * scale
}

// randomSource builds every tensor the config needs with random values in
// dtype (F32 or BF16; norm weights near 1).
func randomSource(tb testing.TB, cfg *config.Config, dtype safetensors.DType) memSource {
	d, err := dimsOf(cfg)
	require.NoError(tb, err)
	rng := splitMix64(1)
	src := memSource{}
	add := func(name string, scale float32, offset float32, shape ...int) {
		n := 1
		for _, v := range shape {
			n *= v
		}
		data := make([]byte, n*dtype.Size())
		for i := range n {
			v := offset + rng.uniform(scale)
			if dtype == safetensors.BF16 {
				binary.LittleEndian.PutUint16(data[2*i:], uint16(math.Float32bits(v)>>16))
			} else {
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
			}
		}
		src[name] = &safetensors.Tensor{Name: name, DType: dtype, Shape: shape, Data: data}
	}
	const w = 0.1
	add("model.embed_tokens.weight", w, 0, d.vocab, d.hidden)
	for l := range d.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", w, 1, d.hidden)
		add(p+"self_attn.q_proj.weight", w, 0, d.qDim, d.hidden)
		add(p+"self_attn.k_proj.weight", w, 0, d.kvDim, d.hidden)
		add(p+"self_attn.v_proj.weight", w, 0, d.kvDim, d.hidden)
		add(p+"self_attn.o_proj.weight", w, 0, d.hidden, d.qDim)
		add(p+"post_attention_layernorm.weight", w, 1, d.hidden)
		add(p+"mlp.gate_proj.weight", w, 0, d.inter, d.hidden)
		add(p+"mlp.up_proj.weight", w, 0, d.inter, d.hidden)
		add(p+"mlp.down_proj.weight", w, 0, d.hidden, d.inter)
	}
	add("model.norm.weight", w, 1, d.hidden)
	return src
}

// benchModels builds the SmolLM2-shaped model in F32 and BF16 with one
// thread and with runtime.NumCPU() threads, and runs fn on each.
func benchModels(b *testing.B, fn func(b *testing.B, m *Model)) {
	cfg, err := config.Parse([]byte(smolLM2Config))
	require.NoError(b, err)
	for _, dtype := range []safetensors.DType{safetensors.F32, safetensors.BF16} {
		src := randomSource(b, cfg, dtype)
		for _, threads := range slices.Compact([]int{1, runtime.NumCPU()}) {
			b.Run(fmt.Sprintf("%s/threads=%d", dtype, threads), func(b *testing.B) {
				m, err := build(cfg, src, Options{Threads: threads})
				require.NoError(b, err)
				defer m.Close()
				fn(b, m)
			})
		}
	}
}

// promptIDs returns n token ids spread over the vocabulary.
func promptIDs(n, vocab int) []int {
	ids := make([]int, n)
	for i := range ids {
		ids[i] = (i*7919 + 13) % vocab
	}
	return ids
}

// BenchmarkDecodeStep measures one decode step (one token through the
// whole model, logits of the last position) with 64 tokens already in the
// cache, on a SmolLM2-135M-shaped random model.
func BenchmarkDecodeStep(b *testing.B) {
	const warm = 64
	benchModels(b, func(b *testing.B, m *Model) {
		c := m.NewCache(0)
		_, err := m.Forward(c, promptIDs(warm, m.d.vocab), false)
		require.NoError(b, err)
		tok := []int{42}
		steps := 0
		for b.Loop() {
			c.Truncate(warm)
			if _, err := m.Forward(c, tok, false); err != nil {
				b.Fatal(err)
			}
			steps++
		}
		b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "tok/s")
	})
}

// BenchmarkPrefill measures one Forward over a 128-token prompt into an
// empty cache (logits of the last position only) on the same model.
func BenchmarkPrefill(b *testing.B) {
	const n = 128
	benchModels(b, func(b *testing.B, m *Model) {
		c := m.NewCache(0)
		prompt := promptIDs(n, m.d.vocab)
		runs := 0
		for b.Loop() {
			c.Truncate(0)
			if _, err := m.Forward(c, prompt, false); err != nil {
				b.Fatal(err)
			}
			runs++
		}
		b.ReportMetric(float64(runs*n)/b.Elapsed().Seconds(), "tok/s")
	})
}
