package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBench runs `loom bench` on a tiny golden model in both output formats
// and with Q8, and checks what it reports against the model's own files.
func TestBench(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "models", "llama-tied")
	st, err := os.Stat(filepath.Join(dir, "model.safetensors"))
	require.NoError(t, err)

	r := loom(t, "", "bench", dir, "-p", "8", "-n", "4", "-r", "3", "-t", "2", "-o", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var rep benchReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	assert.Equal(t, "F32", rep.Weights)
	assert.Equal(t, 2, rep.Threads)
	// A float32 model's weights are its file less the header.
	assert.InDelta(t, st.Size(), rep.WeightBytes, 4096)
	assert.Equal(t, rep.WeightBytes/4, rep.Params)
	require.Len(t, rep.Results, 2)
	for i, want := range []struct {
		test   string
		tokens int
	}{{"pp8", 8}, {"tg4", 4}} {
		res := rep.Results[i]
		assert.Equal(t, want.test, res.Test)
		assert.Equal(t, want.tokens, res.Tokens)
		require.Len(t, res.Samples, 3)
		assert.Positive(t, res.Min)
		assert.LessOrEqual(t, res.Min, res.Median)
		assert.LessOrEqual(t, res.Median, res.Max)
	}
	assert.Greater(t, rep.PeakRSS, rep.WeightBytes, "VmHWM holds at least the weights")

	r = loom(t, "", "bench", dir, "--quantize", "q8", "-p", "4", "-n", "0", "-r", "1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "F32+Q8 weights (quantize q8)")
	assert.Contains(t, r.stdout, "| 2 | pp4 |")
	assert.NotContains(t, r.stdout, "tg")
	assert.Contains(t, r.stdout, "peak RSS: ")
}

func TestBenchUsage(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "models", "llama-tied")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no model", []string{"bench"}, 2},
		{"two models", []string{"bench", dir, dir}, 2},
		{"nothing to do", []string{"bench", dir, "-p", "0", "-n", "0"}, 2},
		{"negative", []string{"bench", dir, "-p", "-1"}, 2},
		{"threads", []string{"bench", dir, "-t", "0"}, 2},
		{"reps", []string{"bench", dir, "-r", "0"}, 2},
		{"format", []string{"bench", dir, "-o", "csv"}, 2},
		{"quantize", []string{"bench", dir, "--quantize", "q4"}, 1},
		{"missing", []string{"bench", filepath.Join(dir, "nope")}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := loom(t, "", tc.args...)
			assert.Equal(t, tc.code, r.code, r.stderr)
			assert.Contains(t, r.stderr, "loom bench: ")
		})
	}
}
