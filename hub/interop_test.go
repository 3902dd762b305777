package hub

import (
	"bytes"
	"context"
	"encoding/json"
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

// The interop tests run huggingface_hub itself (testdata/interop.py, in the
// Debian sid reference root through ci/reference/run.sh) against Loom's
// cache and the fake hub. run.sh bind-mounts the repository at the same path
// inside the root, so caches live under the repository's ignored out/
// folder, and the root's python reaches the loopback fake hub because the
// chroot shares the network namespace.

// requireReference skips the test, visibly, when the reference root or the
// rights run.sh needs are missing.
func requireReference(t *testing.T) {
	t.Helper()
	root := os.Getenv("LOOM_REF_ROOT")
	if root == "" {
		root = "/var/cache/loom/reference"
	}
	if _, err := os.Stat(filepath.Join(root, ".loom-ready")); err != nil {
		t.Skipf("SKIP interop with Python huggingface_hub: reference root %s is not ready (build it with ci/reference/build-root.sh)", root)
	}
	if os.Geteuid() != 0 {
		t.Skip("SKIP interop with Python huggingface_hub: ci/reference/run.sh needs root (unshare, chroot)")
	}
}

// repoTempDir is a fresh folder under <repo>/out/ (git-ignored, and visible
// inside the reference root at the same absolute path).
func repoTempDir(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	root, err = filepath.EvalSymlinks(root)
	require.NoError(t, err)
	out := filepath.Join(root, "out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	dir, err := os.MkdirTemp(out, "hub-interop-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// runReference runs testdata/interop.py with args and returns its result
// and huggingface_hub's version.
func runReference(args ...string) (json.RawMessage, string, error) {
	cmd := exec.Command("../ci/reference/run.sh", append([]string{"testdata/interop.py"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, "", fmt.Errorf("interop.py %s: %w: %s", args[0], err, stderr.String())
	}
	var doc struct {
		Version string          `json:"huggingface_hub"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		return nil, "", fmt.Errorf("interop.py %s: %w: %q", args[0], err, stdout.String())
	}
	return doc.Result, doc.Version, nil
}

// reference runs testdata/interop.py with args and decodes its result into
// v.
func reference(t *testing.T, v any, args ...string) {
	t.Helper()
	res, version, err := runReference(args...)
	require.NoError(t, err)
	t.Logf("huggingface_hub %s (%s)", version, args[0])
	require.NoError(t, json.Unmarshal(res, v))
}

type pyFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Error  string `json:"error"`
	Cached string `json:"cached"`
}

var interopFiles = []string{"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"}

func TestInteropLoomCacheReadByPython(t *testing.T) {
	requireReference(t)
	f := newFakeHub(t)
	repo := tinyRepo("interop-loom")
	f.addRepo("org/interop", repo)
	cache := filepath.Join(repoTempDir(t), "hub")
	dir, err := Resolve(context.Background(), "org/interop", f.options(cache))
	require.NoError(t, err)
	f.close()

	for _, rev := range []string{"main", repo.commit} {
		var got map[string]pyFile
		reference(t, &got, append([]string{"read", cache, "org/interop", rev, "generation_config.json"}, interopFiles...)...)
		for _, name := range interopFiles {
			assert.Equal(t, pyFile{Path: filepath.Join(dir, name), SHA256: sha256Hex(repo.files[name].data), Cached: "file"}, got[name], "%s@%s", name, rev)
		}
		assert.Equal(t, "no_exist", got["generation_config.json"].Cached, "Python reads Loom's .no_exist marker")
		assert.NotEmpty(t, got["generation_config.json"].Error)
	}
}

func TestInteropPythonCacheReadByLoom(t *testing.T) {
	requireReference(t)
	f := newFakeHub(t)
	repo := tinyRepo("interop-python")
	f.addRepo("org/interop", repo)
	cache := filepath.Join(repoTempDir(t), "hub")

	var wrote map[string]pyFile
	reference(t, &wrote, append([]string{"write", cache, f.hub.URL, "org/interop", "main", "generation_config.json"}, interopFiles...)...)
	for _, name := range interopFiles {
		require.Empty(t, wrote[name].Error, name)
		require.Equal(t, sha256Hex(repo.files[name].data), wrote[name].SHA256, "Python downloaded %s from the fake hub", name)
	}
	assert.Equal(t, "RemoteEntryNotFoundError", wrote["generation_config.json"].Error)
	assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model.safetensors"), "Python followed the 302 to the CDN")

	// Online, Loom finds everything in Python's cache: one HEAD for main's
	// commit, and Python's .no_exist marker spares generation_config.json.
	before := len(f.requests())
	dir, err := Resolve(context.Background(), "org/interop", f.options(cache))
	require.NoError(t, err)
	if reqs := f.requests()[before:]; assert.Len(t, reqs, 1) {
		assert.Equal(t, fakeRequest{server: "hub", method: http.MethodHead, file: "config.json"}, reqs[0])
	}
	assertSnapshot(t, cache, "org/interop", repo, dir, interopFiles...)

	// Offline, with the hub gone.
	f.close()
	opts := f.options(cache)
	opts.Offline = true
	got, err := Resolve(context.Background(), "org/interop", opts)
	require.NoError(t, err)
	assert.Equal(t, dir, got)
}

// TestInteropConcurrentWithPython pulls the same weights from Python and
// Loom at once: they share huggingface_hub's lock file, so one downloads
// and the other waits and reuses the blob.
func TestInteropConcurrentWithPython(t *testing.T) {
	requireReference(t)
	f := newFakeHub(t)
	repo := tinyRepo("interop-lock")
	f.addRepo("org/interop", repo)
	f.waitHeads = 2 // the weights' GET waits until both sides asked for them
	cache := filepath.Join(repoTempDir(t), "hub")

	var wg sync.WaitGroup
	var res json.RawMessage
	var pyErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, _, pyErr = runReference("write", cache, f.hub.URL, "org/interop", "main", "model.safetensors")
	}()
	dir, err := Resolve(context.Background(), "org/interop", f.options(cache))
	wg.Wait()
	require.NoError(t, err)
	require.NoError(t, pyErr)
	var wrote map[string]pyFile
	require.NoError(t, json.Unmarshal(res, &wrote))
	assert.Equal(t, sha256Hex(repo.files["model.safetensors"].data), wrote["model.safetensors"].SHA256)
	assert.Equal(t, filepath.Join(dir, "model.safetensors"), wrote["model.safetensors"].Path)

	f.mu.Lock()
	overlapped, missed := f.waitedOK, f.waitedMiss
	f.mu.Unlock()
	assert.True(t, overlapped && !missed, "Python and Loom asked for the weights at the same time")
	assert.Equal(t, 2, f.count("hub", http.MethodHead, "model.safetensors"))
	assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model.safetensors"), "downloaded once")
	assertSnapshot(t, cache, "org/interop", repo, dir, interopFiles...)
}

func TestInteropEnvironment(t *testing.T) {
	requireReference(t)
	base := repoTempDir(t)
	type pyCase struct {
		Name string            `json:"name"`
		Env  map[string]string `json:"env"`
	}
	type pyEnv struct {
		Name     string `json:"name"`
		Cache    string `json:"cache"`
		Endpoint string `json:"endpoint"`
		Token    string `json:"token"`
		Offline  bool   `json:"offline"`
	}
	var cases []pyCase
	for i, c := range envCases {
		caseBase := filepath.Join(base, "c"+strings.Repeat("x", i)) // distinct, no digits to confuse $VAR parsing
		require.NoError(t, os.MkdirAll(caseBase, 0o755))
		cases = append(cases, pyCase{c.name, c.setup(t, caseBase)})
	}
	arg, err := json.Marshal(cases)
	require.NoError(t, err)
	var got []pyEnv
	reference(t, &got, "env", string(arg))
	require.Len(t, got, len(envCases))
	for i, c := range envCases {
		w := c.wanted(filepath.Join(base, "c"+strings.Repeat("x", i)))
		assert.Equal(t, pyEnv{c.name, w.CacheDir, w.Endpoint, w.Token, w.Offline}, got[i], "huggingface_hub disagrees with the table")
	}
}

func TestInteropRepoIDs(t *testing.T) {
	requireReference(t)
	var ids []string
	for _, c := range repoIDCases {
		ids = append(ids, c.id)
	}
	arg, err := json.Marshal(ids)
	require.NoError(t, err)
	var got map[string]bool
	reference(t, &got, "repoids", string(arg))
	for _, c := range repoIDCases {
		if c.stricter {
			assert.True(t, got[c.id], "%q: Python accepts it, Loom rejects it on purpose", c.id)
			continue
		}
		assert.Equal(t, c.valid, got[c.id], "%q: validate_repo_id disagrees with the table", c.id)
	}
}
