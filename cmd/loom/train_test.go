package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	trainTokDir   = "../../engine/tokenizer/testdata/train"
	trainCorpus   = trainTokDir + "/corpus.txt"
	roundTripDir  = "../../engine/train/testdata/roundtrip"
	roundTripFile = "model.safetensors"
)

// roundTripArgs is the command that wrote engine/train/testdata/roundtrip,
// whose logits transformers reproduces (engine/train's
// TestRoundTripMatchesTransformers).
func roundTripArgs(out string, extra ...string) []string {
	args := []string{"train", "--tokenizer", trainTokDir, "--out", out, "--separator", "%%",
		"--layers", "2", "--hidden", "32", "--heads", "4", "--kv-heads", "2", "--intermediate", "64",
		"--context", "32", "--batch", "4", "--steps", "40", "--lr", "3e-3", "--min-lr", "3e-4",
		"--warmup", "4", "--seed", "5", "--val-every", "20"}
	return append(append(args, extra...), trainCorpus)
}

// TestTrainCommandReproducesRoundTrip: `loom train` writes the committed
// round-trip checkpoint byte for byte, on one thread or three, and
// resuming from its final checkpoint changes nothing.
func TestTrainCommandReproducesRoundTrip(t *testing.T) {
	files := []string{roundTripFile, "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"}
	for _, threads := range []string{"1", "3"} {
		out := filepath.Join(t.TempDir(), "model")
		ckpt := filepath.Join(t.TempDir(), "ckpt.safetensors")
		r := loom(t, "", roundTripArgs(out, "--threads", threads, "--checkpoint", ckpt, "--checkpoint-every", "15")...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `^validation loss \d+\.\d{4} perplexity \d+\.\d{2}\n$`, r.stdout)
		assert.Contains(t, r.stderr, "step 40/40")
		assert.Contains(t, r.stderr, "step 20: validation loss")
		for _, f := range files {
			want, err := os.ReadFile(filepath.Join(roundTripDir, f))
			require.NoError(t, err)
			got, err := os.ReadFile(filepath.Join(out, f))
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s on %s threads", f, threads)
		}

		resumed := filepath.Join(t.TempDir(), "resumed")
		r = loom(t, "", roundTripArgs(resumed, "--threads", threads, "--checkpoint", ckpt, "--resume")...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "from step 40")
		want, err := os.ReadFile(filepath.Join(roundTripDir, roundTripFile))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(resumed, roundTripFile))
		require.NoError(t, err)
		assert.Equal(t, want, got, "resumed on %s threads", threads)
	}
}

// TestTrainTokenizerCommand: `loom train-tokenizer` writes the committed
// trained tokenizer (which engine/tokenizer's tests hold to Hugging Face's
// encodings) byte for byte.
func TestTrainTokenizerCommand(t *testing.T) {
	out := t.TempDir()
	r := loom(t, "", "train-tokenizer", "--out", out, "--vocab-size", "600", "--separator", "%%", trainCorpus)
	require.Equal(t, 0, r.code, r.stderr)
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json"} {
		want, err := os.ReadFile(filepath.Join(trainTokDir, f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), f)
	}
}

// TestTrainChatData trains a few steps on a chat JSONL file rendered
// through the tokenizer's template and checks the saved model runs.
func TestTrainChatData(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for _, q := range []string{"What is wisdom?", "Who are you?", "Tell me a riddle.", "What lies ahead?"} {
		lines = append(lines, `{"messages":[{"role":"user","content":"`+q+`"},{"role":"assistant","content":"Patience, traveller; the answer comes to those who wait."}]}`)
	}
	chat := filepath.Join(dir, "chat.jsonl")
	require.NoError(t, os.WriteFile(chat, []byte(strings.Repeat(strings.Join(lines, "\n")+"\n", 20)), 0o644))
	out := filepath.Join(dir, "model")
	r := loom(t, "", "train", "--tokenizer", trainTokDir, "--out", out, "--chat", chat, "--layers", "1", "--hidden", "16",
		"--heads", "2", "--kv-heads", "1", "--intermediate", "32", "--context", "16", "--batch", "2", "--steps", "5", "--dtype", "f32")
	require.Equal(t, 0, r.code, r.stderr)
	r = loom(t, "", "run", out, "Hello", "--chat", "--temp", "0", "--max-tokens", "4")
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestTrainUsageErrors(t *testing.T) {
	cases := [][]string{
		{"train"},
		{"train", "--tokenizer", trainTokDir, "--out", "x", "--resume", trainCorpus},
		{"train", "--tokenizer", trainTokDir, "--out", "x", "--dtype", "f8", trainCorpus},
		{"train", "--tokenizer", trainTokDir, "--out", "x", "--heads", "3", "--hidden", "32", trainCorpus},
		{"train", "--tokenizer", trainTokDir, "--out", "x"},
		{"train-tokenizer", "--out", "x", "--vocab-size", "10", trainCorpus},
		{"train-tokenizer", trainCorpus},
	}
	for _, args := range cases {
		r := loom(t, "", args...)
		assert.Equal(t, 2, r.code, "%v: %s", args, r.stderr)
	}
}
