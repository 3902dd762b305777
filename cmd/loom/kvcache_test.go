package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kv16Dir holds transformers' outputs for the golden models with every
// attention key and value rounded to binary16 (ci/reference/kv16_golden.py).
const kv16Dir = "../../engine/model/testdata/kv16"

// kv16Greedy returns HF's binary16-KV greedy continuation of model name's
// golden prompt and the smallest top-1/top-2 gap along it.
func kv16Greedy(t *testing.T, name string) ([]int, float64) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(kv16Dir, "golden.json"))
	require.NoError(t, err)
	var refs map[string]struct {
		GreedyIDs []int   `json:"greedy_ids"`
		MinGap    float64 `json:"min_gap"`
	}
	require.NoError(t, json.Unmarshal(data, &refs))
	require.Contains(t, refs, name)
	return refs[name].GreedyIDs, refs[name].MinGap
}

// TestKVCacheFlagGenerateAndLogits runs `loom generate` and `loom logits`
// with --kv-cache f16 against transformers with binary16 keys and values:
// the greedy ids must be HF's (their gap is at least 1e-3), and the logits
// within the distance between HF's own binary16-KV and float32 logits (see
// engine/model's TestKVCacheF16MatchesTransformers for why not closer).
func TestKVCacheFlagGenerateAndLogits(t *testing.T) {
	for _, name := range []string{"mistral", "qwen2-bf16"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", "models", name)
			g := readModelGolden(t, dir)
			want, gap := kv16Greedy(t, name)
			require.GreaterOrEqual(t, gap, 1e-3)
			r := loom(t, "", "generate", "--model", dir, "--ids", joinIDs(g.PromptIDs, ","),
				"--max-tokens", strconv.Itoa(len(want)), "--greedy", "--kv-cache", "f16")
			requireOK(t, r)
			assert.Equal(t, joinIDs(want, " ")+"\n", r.stdout)

			out := filepath.Join(t.TempDir(), "logits.f32")
			requireOK(t, loom(t, "", "logits", "--model", dir, "--ids", joinIDs(g.PromptIDs, ","), "--out", out, "--kv-cache", "f16"))
			hf32 := filepath.Join(dir, "logits_upcast.f32")
			if _, err := os.Stat(hf32); err != nil {
				hf32 = filepath.Join(dir, "logits.f32")
			}
			got, ref16, ref32 := readFloats(t, out), readFloats(t, filepath.Join(kv16Dir, name+".f32")), readFloats(t, hf32)
			require.Len(t, got, len(ref16))
			require.Len(t, ref32, len(ref16))
			var hfGap, worst float64
			for i := range got {
				hfGap = max(hfGap, math.Abs(float64(ref16[i])-float64(ref32[i])))
				worst = max(worst, math.Abs(float64(got[i])-float64(ref16[i])))
			}
			t.Logf("max |Δlogit| vs HF binary16-KV %.3g (HF's own binary16-KV vs float32: %.3g)", worst, hfGap)
			assert.LessOrEqual(t, worst, hfGap)
		})
	}
}

// TestKVCacheFlagRun checks that `loom run --kv-cache f16` streams what
// `loom verify --kv-cache f16` reports for the same greedy generation.
func TestKVCacheFlagRun(t *testing.T) {
	const prompt = "Once upon a time"
	r := loom(t, "", "run", tinyChat, prompt, "--temp", "0", "--max-tokens", "12", "--kv-cache", "f16")
	requireOK(t, r)
	v := loom(t, "", "verify", tinyChat, "--prompt", prompt, "--greedy", "--max-tokens", "12", "--kv-cache", "f16")
	requireOK(t, v)
	var text string
	require.NoError(t, json.Unmarshal([]byte(verifyLines(t, v.stdout, true)["text"]), &text))
	assert.Equal(t, text, r.stdout)
}

// TestVerifyKVCache checks that the f16 cache is part of the input hash
// (the canonical encoding written out by hand, kv_cache between ids and
// max_tokens) while the default f32 cache, named or not, hashes as it did
// before the flag existed; that its ids are transformers' binary16-KV
// greedy ids on any thread count; and that a bad value is refused.
func TestVerifyKVCache(t *testing.T) {
	name := "llama-sharded"
	dir := filepath.Join("..", "..", "testdata", "models", name)
	g := readModelGolden(t, dir)
	want, gap := kv16Greedy(t, name)
	require.GreaterOrEqual(t, gap, 1e-3)
	ids := joinIDs(g.PromptIDs, ",")
	run := func(extra ...string) map[string]string {
		r := loom(t, "", append([]string{"verify", dir, "--ids", ids, "--greedy", "--max-tokens", "20"}, extra...)...)
		requireOK(t, r)
		return verifyLines(t, r.stdout, false)
	}
	plain, f32, f16 := run(), run("--kv-cache", "f32"), run("--kv-cache", "f16", "--threads", "1")
	assert.Equal(t, plain, f32, "--kv-cache f32 is the default")
	assert.Equal(t, f16, run("--kv-cache", "f16", "--threads", "3"), "threads")

	canonical := func(kv string) string {
		return "loom-input-v1\nchat=false\nfrequency_penalty=0\nids=" + strconv.Itoa(len(g.PromptIDs)) + ":" + joinIDs(g.PromptIDs, ":") +
			"\n" + kv + "max_tokens=20\nmin_p=0\npenalty_last_n=0\npresence_penalty=0\nprompt=0:" +
			"\nquantize=0:\nrepeat_penalty=0\nseed=0\nstop=0\nsystem=0:\ntemperature=0\ntop_k=0\ntop_p=0\n"
	}
	assert.Equal(t, sha256Hex([]byte(canonical(""))), plain["input_sha256"])
	assert.Equal(t, sha256Hex([]byte(canonical("kv_cache=3:f16\n"))), f16["input_sha256"])
	assert.Equal(t, plain["model_sha256"], f16["model_sha256"])
	assert.NotEqual(t, plain["logits_sha256"], f16["logits_sha256"])
	assert.Equal(t, joinIDs(want, " "), f16["ids"])

	requireFailure(t, loom(t, "", "verify", dir, "--ids", ids, "--kv-cache", "f8"), 1)
}

// TestBenchKVCache checks that `loom bench` reports the cache type and its
// size, computed here from config.json: keys and values of every layer,
// kv heads x head_dim elements per position, 4 or 2 bytes each.
func TestBenchKVCache(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "models", "qwen2")
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	var cfg struct {
		Layers  int64 `json:"num_hidden_layers"`
		Hidden  int64 `json:"hidden_size"`
		Heads   int64 `json:"num_attention_heads"`
		KVHeads int64 `json:"num_key_value_heads"`
	}
	require.NoError(t, json.Unmarshal(data, &cfg))
	perPos := 2 * cfg.Layers * cfg.KVHeads * (cfg.Hidden / cfg.Heads)

	for _, tc := range []struct {
		kv   string
		size int64
	}{{"f32", 4}, {"f16", 2}} {
		r := loom(t, "", "bench", dir, "--kv-cache", tc.kv, "-p", "8", "-n", "6", "-r", "1", "-o", "json")
		requireOK(t, r)
		var rep benchReport
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
		assert.Equal(t, tc.kv, rep.KVCache)
		assert.Equal(t, perPos*tc.size*8, rep.KVBytes, "%s cache of 8 positions", tc.kv)
	}
	r := loom(t, "", "bench", dir, "--kv-cache", "f16", "-p", "4", "-n", "0", "-r", "1")
	requireOK(t, r)
	assert.Contains(t, r.stdout, "; f16 KV cache;")
	assert.Contains(t, r.stdout, " + f16 KV cache ")
	requireFailure(t, loom(t, "", "bench", dir, "--kv-cache", "q8"), 1)
}
