package hub

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperEnv makes the test binary, re-executed, act as a second `loom pull`
// process (TestHelperProcessResolve).
const helperEnv = "LOOM_HUB_HELPER_REPO"

// TestHelperProcessResolve is not a test: run by TestConcurrentProcesses in a
// child process, it resolves $LOOM_HUB_HELPER_REPO with the options from
// the environment and prints the snapshot folder.
func TestHelperProcessResolve(t *testing.T) {
	repo := os.Getenv(helperEnv)
	if repo == "" {
		t.Skip("helper process for TestConcurrentProcesses")
	}
	opts, err := FromEnv()
	if err == nil {
		var dir string
		dir, err = Resolve(context.Background(), repo, opts)
		fmt.Println(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestConcurrentProcesses pulls one repo from two processes at once: the
// CDN holds the weights' GET until both processes have asked for them, so
// the second must wait on the first's lock; each file is downloaded once
// and both processes get the same snapshot.
func TestConcurrentProcesses(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("concurrent")
	f.addRepo("org/concurrent", repo)
	f.waitHeads = 2
	cache := t.TempDir()

	type result struct {
		out, errOut bytes.Buffer
		err         error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcessResolve$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=org/concurrent", "HF_HUB_CACHE="+cache,
			"HF_ENDPOINT="+f.hub.URL, "HF_HUB_OFFLINE=", "HF_TOKEN=")
		cmd.Stdout, cmd.Stderr = &results[i].out, &results[i].errOut
		require.NoError(t, cmd.Start())
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].err = cmd.Wait()
		}()
	}
	wg.Wait()

	want := filepath.Join(cache, "models--org--concurrent", "snapshots", repo.commit)
	for i, r := range results {
		require.NoError(t, r.err, "process %d: %s", i, r.errOut.String())
		assert.Equal(t, want, strings.TrimSpace(r.out.String()), "process %d", i)
	}
	f.mu.Lock()
	overlapped, missed := f.waitedOK, f.waitedMiss
	f.mu.Unlock()
	assert.True(t, overlapped && !missed, "both processes asked for the weights while one was downloading them")
	assert.Equal(t, 2, f.count("hub", http.MethodHead, "model.safetensors"))
	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"} {
		assert.Equal(t, 1, f.count("hub", http.MethodGet, name), "GET %s", name)
	}
	assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model.safetensors"))
	assertSnapshot(t, cache, "org/concurrent", repo, want, "config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors")
}
