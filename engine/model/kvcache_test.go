package model

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
)

// kv16Dir holds what transformers computes for the golden models with
// every attention key and value rounded to binary16 (written by
// ci/reference/kv16_golden.py): NAME.f32, the prompt logits, NAME.kv, the
// rounded keys and values of the prompt pass, and golden.json.
const kv16Dir = "testdata/kv16"

// kv16Golden is kv16Dir's golden.json: per model, HF's greedy continuation
// with rounded keys and values and its smallest top-1/top-2 gap.
type kv16Golden map[string]struct {
	GreedyIDs []int   `json:"greedy_ids"`
	MinGap    float64 `json:"min_gap"`
}

// TestKVCacheF16MatchesTransformers runs every golden model that has a
// kv16 reference (all but tiny-chat) with an f16 KV cache, over the prompt
// and then 20 greedy steps one token at a time.
//
// The first layer's cached keys and values must be HF's binary16 ones
// (NAME.kv), each equal or one binary16 step away: they depend on the
// embedding alone, Loom's and HF's float32 values differ only in their last
// bits, and a value within those bits of a rounding midpoint rounds to the
// other neighbour in one of them. The later layers' caches are logged: once
// a value rounded the other way, they move with it (llama-untied's two
// first-layer differences move a fifth of its second layer's values).
//
// Logits: such a difference moves the logits by as much as rounding the
// cache moves them, so the prompt logits must be within hfGap of HF's
// binary16-KV logits, hfGap being the distance between HF's own
// binary16-KV and float32 logits; and at least half the models must match
// them to 1e-4, the float32 parity tolerance of TestGoldenLogits (a
// mistake in how attention reads the cache would move every model).
// Against HF's float32 logits (logits.f32, or logits_upcast.f32 for 16-bit
// weights, which Loom computes in float32) the bound follows by the
// triangle inequality: 2*hfGap. The test logs every distance.
//
// Greedy decoding: teacher-forced along HF's float32 greedy ids, the
// argmax must pick HF's id on at least 18 of the 20 steps; run free, it
// must give HF's binary16-KV greedy ids exactly when their top-1/top-2
// gap is at least 1e-3 at every step.
func TestKVCacheF16MatchesTransformers(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(kv16Dir, "golden.json"))
	require.NoError(t, err)
	var refs kv16Golden
	require.NoError(t, json.Unmarshal(data, &refs))
	require.GreaterOrEqual(t, len(refs), 16, "kv16 references")

	worstKV16, worstF32 := 0.0, 0.0
	close16 := 0 // models within 1e-4 of HF's binary16-KV logits
	for _, name := range slices.Sorted(maps.Keys(refs)) {
		ref := refs[name]
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(modelsDir, name)
			g := readGolden(t, dir)
			vocab, n := g.VocabSize, len(g.PromptIDs)
			hfName, want := "logits.f32", g.GreedyIDs
			if g.DType != "float32" {
				hfName, want = "logits_upcast.f32", g.GreedyIDsUpcast
			}
			require.Len(t, want, 20)
			hf32 := readLogits(t, filepath.Join(dir, hfName), n, vocab)
			hf16 := readLogits(t, filepath.Join(kv16Dir, name+".f32"), n, vocab)
			hfGap := maxAbsDiff(hf16, hf32)
			require.Positive(t, hfGap, "the kv16 reference differs from the float32 one")

			m := loadGoldenOpts(t, dir, Options{Threads: 2, KVCache: KVCacheF16})
			c := m.NewCache(0)
			logits, err := m.Forward(c, g.PromptIDs, true)
			require.NoError(t, err)

			differ, steps := cacheDiff(t, c, filepath.Join(kv16Dir, name+".kv"))
			t.Logf("cached keys and values that differ from HF's, per layer: %v of %d, by at most %v binary16 steps",
				differ, 2*m.d.kvHeads*n*m.d.headDim, steps)
			assert.LessOrEqual(t, steps[0], 1, "first layer: binary16 steps from HF's keys and values")
			t.Logf("HF's own binary16-KV run differs from its float32 run by %.3g", hfGap)
			checkRows(t, "HF with binary16 keys and values", logits, hf16, vocab, hfGap)
			checkRows(t, "HF float32 "+hfName, logits, hf32, vocab, 2*hfGap)
			d16 := maxAbsDiff(logits, hf16)
			if d16 <= 1e-4 {
				close16++
			}
			worstKV16 = max(worstKV16, d16)
			worstF32 = max(worstF32, maxAbsDiff(logits, hf32))

			// Teacher-forced along HF's float32 greedy ids.
			row := logits[(n-1)*vocab:]
			matches := 0
			for step, id := range want {
				if argmax(row) == id {
					matches++
				}
				if step == len(want)-1 {
					break
				}
				row, err = m.Forward(c, []int{id}, false)
				require.NoError(t, err)
			}
			t.Logf("f16-cache argmax = HF float32 greedy on %d/20 steps", matches)
			assert.GreaterOrEqual(t, matches, 18, "greedy steps equal to HF's float32 run")

			// Free-running greedy against HF's binary16-KV greedy run.
			c.Truncate(n)
			next := argmax(logits[(n-1)*vocab:])
			got := []int{next}
			for len(got) < len(ref.GreedyIDs) {
				row, err := m.Forward(c, []int{next}, false)
				require.NoError(t, err)
				next = argmax(row)
				got = append(got, next)
			}
			if ref.MinGap >= 1e-3 {
				assert.Equal(t, ref.GreedyIDs, got, "greedy ids vs HF with binary16 keys and values")
			} else {
				t.Logf("HF's gap %.3g is too small to compare greedy ids; equal: %v", ref.MinGap, slices.Equal(ref.GreedyIDs, got))
			}
		})
	}
	t.Logf("all models: f16 cache max |Δlogit| vs HF binary16-KV %.3g (%d of %d models within 1e-4), vs HF float32 %.3g",
		worstKV16, close16, len(refs), worstF32)
	assert.GreaterOrEqual(t, 2*close16, len(refs), "models whose logits match HF's binary16-KV run to 1e-4")
}

// cacheDiff compares the f16 cache c, filled with a prompt, with HF's
// rounded keys and values of the same prompt in the file at path (per
// layer, keys then values, [kvHeads x positions x headDim] binary16 bits).
// It returns, per layer, how many elements differ and the largest
// difference in binary16 steps (values of the same sign only).
func cacheDiff(t *testing.T, c *Cache, path string) (differ, maxSteps []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	d := c.m.d
	per := d.kvHeads * c.n * d.headDim
	require.Len(t, data, 2*2*d.layers*per, path)
	differ, maxSteps = make([]int, d.layers), make([]int, d.layers)
	i := 0
	for l := range d.layers {
		for _, w := range []*kernels.Mat{&c.k[l], &c.v[l]} {
			for h := range d.kvHeads {
				for p := range c.n {
					for _, got := range w.U16[(h*c.cap+p)*d.headDim:][:d.headDim] {
						want := binary.LittleEndian.Uint16(data[2*i:])
						i++
						if got == want {
							continue
						}
						differ[l]++
						steps := math.MaxInt
						if got^want < 0x8000 { // same sign: magnitudes are ordered like their bits
							steps = int(got&0x7fff) - int(want&0x7fff)
							steps = max(steps, -steps)
						}
						maxSteps[l] = max(maxSteps[l], steps)
					}
				}
			}
		}
	}
	return differ, maxSteps
}

// TestKVCacheF16Deterministic checks that an f16 cache keeps Loom's
// promises: one Forward over the prompt gives the same bits as one token
// at a time, on one, two or three threads (the Mistral model attends
// through a sliding window, the mqa one shares one kv head, qwen2-bf16 has
// biases and 16-bit weights).
func TestKVCacheF16Deterministic(t *testing.T) {
	for _, name := range []string{"llama-untied", "qwen2-bf16", "mistral", "mqa"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(modelsDir, name)
			g := readGolden(t, dir)
			var want []uint32
			for _, threads := range []int{1, 2, 3} {
				m := loadGoldenOpts(t, dir, Options{Threads: threads, KVCache: KVCacheF16})
				all, err := m.Forward(m.NewCache(0), g.PromptIDs, true)
				require.NoError(t, err)
				c := m.NewCache(0)
				var steps []float32
				for _, id := range g.PromptIDs {
					row, err := m.Forward(c, []int{id}, false)
					require.NoError(t, err)
					steps = append(steps, row...)
				}
				if want == nil {
					want = bitsOf(all)
				}
				assert.Equal(t, want, bitsOf(all), "prefill on %d threads", threads)
				assert.Equal(t, want, bitsOf(steps), "token by token on %d threads", threads)
			}
		})
	}
}

// TestKVCacheF16Storage checks what the f16 cache holds: after a Forward,
// every stored key and value is F32ToF16 of what the float32 cache of the
// same model holds, and the cache takes half the bytes (CacheBytes, and
// the slices actually allocated).
func TestKVCacheF16Storage(t *testing.T) {
	dir := filepath.Join(modelsDir, "qwen2")
	g := readGolden(t, dir)
	m32 := loadGoldenOpts(t, dir, Options{Threads: 1})
	m16 := loadGoldenOpts(t, dir, Options{Threads: 1, KVCache: KVCacheF16})
	assert.Equal(t, KVCacheF32, m32.KVCache())
	assert.Equal(t, KVCacheF16, m16.KVCache())
	c32, c16 := m32.NewCache(0), m16.NewCache(0)
	_, err := m32.Forward(c32, g.PromptIDs, false)
	require.NoError(t, err)
	_, err = m16.Forward(c16, g.PromptIDs, false)
	require.NoError(t, err)

	// Only the first layer's keys and values are compared: they depend on
	// the embedding alone, so both caches computed them from the same
	// float32 inputs.
	require.Equal(t, c32.cap, c16.cap)
	for _, kv := range []struct {
		name     string
		f32, f16 kernels.Mat
	}{{"keys", c32.k[0], c16.k[0]}, {"values", c32.v[0], c16.v[0]}} {
		require.Equal(t, kernels.F32, kv.f32.DType)
		require.Equal(t, kernels.F16, kv.f16.DType)
		require.Len(t, kv.f16.U16, len(kv.f32.F32))
		assert.Empty(t, kv.f16.F32, "no float32 copy")
		for h := range m16.d.kvHeads {
			for p := range len(g.PromptIDs) {
				off := (h*c16.cap + p) * m16.d.headDim
				for i := range m16.d.headDim {
					require.Equal(t, kernels.F32ToF16(kv.f32.F32[off+i]), kv.f16.U16[off+i], "%s: kv head %d, position %d, element %d", kv.name, h, p, i)
				}
			}
		}
	}

	var bytes32, bytes16 int64
	for l := range m16.d.layers {
		bytes32 += 4 * int64(len(c32.k[l].F32)+len(c32.v[l].F32))
		bytes16 += 2 * int64(len(c16.k[l].U16)+len(c16.v[l].U16))
	}
	assert.Equal(t, m32.CacheBytes(c32.cap), bytes32)
	assert.Equal(t, m16.CacheBytes(c16.cap), bytes16)
	assert.Equal(t, bytes32, 2*bytes16)
}

// TestKVCacheOption checks that an unknown cache type is refused before
// anything is loaded, and that "" and "f32" are the same float32 cache.
func TestKVCacheOption(t *testing.T) {
	dir := filepath.Join(modelsDir, "llama-tied")
	for _, bad := range []string{"q8", "F16", "bf16", "fp16"} {
		_, err := Load(dir, Options{KVCache: bad})
		assert.ErrorIs(t, err, ErrUnsupported, "kv cache %q", bad)
	}
	g := readGolden(t, dir)
	a := loadGoldenOpts(t, dir, Options{Threads: 1})
	b := loadGoldenOpts(t, dir, Options{Threads: 1, KVCache: KVCacheF32})
	la, err := a.Forward(a.NewCache(0), g.PromptIDs, true)
	require.NoError(t, err)
	lb, err := b.Forward(b.NewCache(0), g.PromptIDs, true)
	require.NoError(t, err)
	assert.Equal(t, bitsOf(la), bitsOf(lb))
}

// BenchmarkKVCache measures a decode step of the SmolLM2-135M-shaped model
// (bf16 weights, one thread) with 64 and 1024 tokens in an f32 and an f16
// cache: at 1024 the attention over the cache is a visible part of a step.
func BenchmarkKVCache(b *testing.B) {
	cfg, err := config.Parse([]byte(smolLM2Config))
	require.NoError(b, err)
	src := randomSource(b, cfg, safetensors.BF16)
	for _, kv := range []string{KVCacheF32, KVCacheF16} {
		m, err := build(cfg, src, Options{Threads: 1, KVCache: kv})
		require.NoError(b, err)
		for _, warm := range []int{64, 1024} {
			b.Run(fmt.Sprintf("%s/context=%d", kv, warm), func(b *testing.B) {
				c := m.NewCache(0)
				_, err := m.Forward(c, promptIDs(warm, m.d.vocab), false)
				require.NoError(b, err)
				for b.Loop() {
					c.Truncate(warm)
					if _, err := m.Next(c, []int{42}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
		require.NoError(b, m.Close())
	}
}
