package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRunRepoIDOffline checks that a MODEL argument that is not a local
// folder is read as a Hugging Face repo id and answered from the shared HF
// cache with HF_HUB_OFFLINE=1 (the layout itself is checked against python
// huggingface_hub in the hub package's interop test).
func TestRunRepoIDOffline(t *testing.T) {
	g := readTinyChat(t)
	cache := t.TempDir()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	repo := filepath.Join(cache, "models--loom--tiny-chat")
	snap := filepath.Join(repo, "snapshots", commit)
	require.NoError(t, os.MkdirAll(snap, 0o755))
	for _, name := range []string{"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} {
		data, err := os.ReadFile(filepath.Join(tinyChat, name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(snap, name), data, 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "refs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644))

	env := []string{"HF_HUB_CACHE=" + cache, "HF_HUB_OFFLINE=1", "HF_ENDPOINT=http://127.0.0.1:1"}
	args := []string{"--temp", "0", "--max-tokens", strconv.Itoa(len(g.GreedyIDs))}
	local := loom(t, "", append([]string{"run", tinyChat, "Hello"}, args...)...)
	requireOK(t, local)
	cached := loomEnv(t, env, "", append([]string{"run", "loom/tiny-chat", "Hello"}, args...)...)
	requireOK(t, cached)
	assert.Equal(t, local.stdout, cached.stdout)

	// verify (and so the audit hashes) reads the same files through the cache.
	vargs := []string{"--prompt", "Hello", "--greedy", "--max-tokens", "4"}
	vLocal := loom(t, "", append([]string{"verify", tinyChat}, vargs...)...)
	requireOK(t, vLocal)
	vCached := loomEnv(t, env, "", append([]string{"verify", "loom/tiny-chat"}, vargs...)...)
	requireOK(t, vCached)
	assert.Equal(t, vLocal.stdout, vCached.stdout)

	// bench loads the model through the cache as well.
	bench := loomEnv(t, env, "", "bench", "loom/tiny-chat", "-p", "4", "-n", "2", "-r", "1", "-t", "1")
	requireOK(t, bench)

	// Not cached and offline: one line that says so.
	missing := loomEnv(t, env, "", "run", "loom/not-there", "Hello")
	requireFailure(t, missing, 1)
	assert.Contains(t, missing.stderr, "offline")
}
