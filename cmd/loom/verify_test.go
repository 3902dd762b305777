package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verifyLines parses `loom verify` output into its keyed lines, checking
// the documented order.
func verifyLines(t *testing.T, stdout string, withText bool) map[string]string {
	t.Helper()
	keys := []string{"model_sha256", "input_sha256", "ids", "logits_sha256"}
	if withText {
		keys = append(keys, "text")
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.Len(t, lines, len(keys), "output: %q", stdout)
	out := map[string]string{}
	for i, line := range lines {
		key, value, ok := strings.Cut(line, " ")
		require.True(t, ok, "line %q", line)
		require.Equal(t, keys[i], key)
		out[key] = value
	}
	return out
}

// auditGolden reads engine/audit/testdata/golden.txt, the hashes that
// engine/audit/testdata/golden.sh computes with coreutils.
func auditGolden(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../../engine/audit/testdata/golden.txt")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		out[k] = v
	}
	require.NoError(t, sc.Err())
	return out
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// TestVerifyTinyChat checks every line of `loom verify` against something
// computed elsewhere: the model hash against coreutils, the input hash
// against the canonical encoding written out by hand, ids and text against
// transformers' greedy generation, and logits_sha256 against the bytes
// `loom logits` writes for the same positions.
func TestVerifyTinyChat(t *testing.T) {
	g := readTinyChat(t)
	var msgs []struct{ Content string }
	require.NoError(t, json.Unmarshal(g.Messages, &msgs))
	require.Len(t, msgs, 1)
	n := len(g.GreedyIDs)

	r := loom(t, "", "verify", tinyChat, "--prompt", msgs[0].Content, "--chat", "--greedy",
		"--max-tokens", strconv.Itoa(n))
	requireOK(t, r)
	got := verifyLines(t, r.stdout, true)

	assert.Equal(t, auditGolden(t)["model:tiny-chat"], got["model_sha256"])
	canonical := "loom-input-v1\nchat=true\nfrequency_penalty=0\nids=0\nmax_tokens=" + strconv.Itoa(n) +
		"\nmin_p=0\npenalty_last_n=0\npresence_penalty=0\nprompt=" + strconv.Itoa(len(msgs[0].Content)) + ":" + msgs[0].Content +
		"\nquantize=0:\nrepeat_penalty=0\nseed=0\nstop=0\nsystem=0:\ntemperature=0\ntop_k=0\ntop_p=0\n"
	assert.Equal(t, sha256Hex([]byte(canonical)), got["input_sha256"])
	assert.Equal(t, joinIDs(g.GreedyIDs, " "), got["ids"])
	var text string
	require.NoError(t, json.Unmarshal([]byte(got["text"]), &text))
	assert.Equal(t, g.GreedyText, text)

	// Steps are the prefill's last row, then one row per fed-back token:
	// with --max-tokens 3 that is the last three rows of `loom logits`
	// over the prompt plus the first two generated ids.
	r = loom(t, "", "verify", tinyChat, "--prompt", msgs[0].Content, "--chat", "--greedy", "--max-tokens", "3")
	requireOK(t, r)
	three := verifyLines(t, r.stdout, true)
	out := filepath.Join(t.TempDir(), "logits.f32")
	seq := append(append([]int{}, g.PromptIDs...), g.GreedyIDs[:2]...)
	requireOK(t, loom(t, "", "logits", "--model", tinyChat, "--ids", joinIDs(seq, ","), "--out", out))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	row := 4 * 32000
	require.Len(t, data, len(seq)*row)
	assert.Equal(t, sha256Hex(data[len(data)-3*row:]), three["logits_sha256"])
}

// TestVerifyIDsAndThreads runs an ids-only model (no tokenizer, so no text
// line) and checks that the thread count changes nothing, not even the
// input hash.
func TestVerifyIDsAndThreads(t *testing.T) {
	dir := "../../testdata/models/llama-sharded"
	g := readModelGolden(t, dir)
	var runs []map[string]string
	for _, threads := range []string{"1", "3"} {
		r := loom(t, "", "verify", dir, "--ids", joinIDs(g.PromptIDs, ","), "--greedy",
			"--max-tokens", strconv.Itoa(len(g.GreedyIDs)), "--threads", threads)
		requireOK(t, r)
		runs = append(runs, verifyLines(t, r.stdout, false))
	}
	assert.Equal(t, runs[0], runs[1])
	assert.Equal(t, auditGolden(t)["model:llama-sharded"], runs[0]["model_sha256"])
	assert.Equal(t, joinIDs(g.GreedyIDs, " "), runs[0]["ids"])
}

// TestVerifySeed checks that the seed is part of the input and, when
// sampling, of the output.
func TestVerifySeed(t *testing.T) {
	run := func(seed string) map[string]string {
		r := loom(t, "", "verify", tinyChat, "--prompt", "Once upon a time", "--temp", "1.5",
			"--top-k", "0", "--top-p", "1", "--min-p", "0", "--max-tokens", "12", "--seed", seed)
		requireOK(t, r)
		return verifyLines(t, r.stdout, true)
	}
	a, b, c := run("1"), run("1"), run("2")
	assert.Equal(t, a, b)
	assert.NotEqual(t, a["input_sha256"], c["input_sha256"])
	assert.NotEqual(t, a["ids"], c["ids"])
	assert.NotEqual(t, a["logits_sha256"], c["logits_sha256"])
}

func TestVerifyErrors(t *testing.T) {
	noTok := "../../testdata/models/mistral"
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no model", []string{"--prompt", "x"}, 2},
		{"no prompt", []string{tinyChat}, 2},
		{"prompt and ids", []string{tinyChat, "--prompt", "x", "--ids", "1"}, 2},
		{"chat with ids", []string{tinyChat, "--ids", "1", "--chat"}, 2},
		{"system without chat", []string{tinyChat, "--prompt", "x", "--system", "s"}, 2},
		{"bad ids", []string{tinyChat, "--ids", "1,x"}, 2},
		{"text prompt without tokenizer", []string{noTok, "--prompt", "x"}, 1},
		{"id outside the vocabulary", []string{noTok, "--ids", "1,999999"}, 1},
		{"missing model", []string{"../../testdata/models/nonexistent", "--ids", "1"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireFailure(t, loom(t, "", append([]string{"verify"}, tc.args...)...), tc.code)
		})
	}
}

// TestVerifyQuantize checks that Q8 is part of the input, not of the model
// files, and changes the logits.
func TestVerifyQuantize(t *testing.T) {
	run := func(extra ...string) map[string]string {
		r := loom(t, "", append([]string{"verify", tinyChat, "--prompt", "Hi!", "--greedy", "--max-tokens", "4"}, extra...)...)
		requireOK(t, r)
		return verifyLines(t, r.stdout, true)
	}
	plain, q8 := run(), run("--quantize", "q8")
	assert.Equal(t, plain["model_sha256"], q8["model_sha256"])
	assert.NotEqual(t, plain["input_sha256"], q8["input_sha256"])
	assert.NotEqual(t, plain["logits_sha256"], q8["logits_sha256"])
	requireFailure(t, loom(t, "", "verify", tinyChat, "--prompt", "Hi!", "--quantize", "q4"), 1)
}
