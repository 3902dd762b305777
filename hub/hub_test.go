package hub

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearHFEnv unsets every variable FromEnv reads, for the test's duration.
func clearHFEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"HF_HOME", "XDG_CACHE_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT",
		"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

func (f *fakeHub) options(cache string) Options {
	return Options{CacheDir: cache, Endpoint: f.hub.URL}
}

// assertSnapshot checks that dir is repo's snapshot in cache, that every
// file in want holds the repository's bytes, and, for symlinked files, that
// the link is huggingface_hub's ../../blobs/<etag>.
func assertSnapshot(t *testing.T, cache, id string, repo *fakeRepo, dir string, want ...string) {
	t.Helper()
	assert.Equal(t, filepath.Join(cache, repoFolder(id), "snapshots", repo.commit), dir)
	for _, name := range want {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if assert.NoError(t, err, name) {
			assert.Equal(t, repo.files[name].data, got, "%s content", name)
		}
		etag := gitBlobID(repo.files[name].data)
		if repo.files[name].lfs {
			etag = sha256Hex(repo.files[name].data)
		}
		link, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(name)))
		if assert.NoError(t, err, "%s is a symlink", name) {
			up := strings.Repeat("../", 2+strings.Count(name, "/"))
			assert.Equal(t, filepath.FromSlash(up+"blobs/"+etag), link, name)
		}
	}
}

func TestResolveDownloadsThenServesOffline(t *testing.T) {
	clearHFEnv(t)
	f := newFakeHub(t)
	repo := tinyRepo("tiny")
	f.addRepo("org/tiny", repo)
	cache := t.TempDir()

	var calls []int64
	opts := f.options(cache)
	opts.Progress = func(file string, downloaded, total int64) {
		if file == "model.safetensors" {
			assert.Equal(t, int64(len(repo.files[file].data)), total)
			calls = append(calls, downloaded)
		}
	}
	dir, err := Resolve(context.Background(), "org/tiny", opts)
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/tiny", repo, dir, "config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors")
	assert.NoFileExists(t, filepath.Join(dir, "README.md"), "nothing beyond the model files unless asked")

	ref, err := os.ReadFile(filepath.Join(cache, "models--org--tiny", "refs", "main"))
	require.NoError(t, err)
	assert.Equal(t, repo.commit, string(ref), "refs/main holds the commit, no newline")
	require.NotEmpty(t, calls)
	assert.Equal(t, int64(len(repo.files["model.safetensors"].data)), calls[len(calls)-1])
	assert.IsNonDecreasing(t, calls)

	for _, name := range []string{"config.json", "tokenizer.json", "tokenizer_config.json"} {
		assert.Equal(t, 1, f.count("hub", http.MethodGet, name), "GET %s", name)
	}
	assert.Equal(t, 1, f.count("hub", http.MethodGet, "model.safetensors"), "LFS GET goes to the hub first")
	assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model.safetensors"), "then follows the 302 to the CDN")
	assert.Zero(t, f.count("hub", "", "README.md"))

	// Online again: one HEAD to learn main's commit, nothing downloaded.
	before := len(f.requests())
	dir2, err := Resolve(context.Background(), "org/tiny", f.options(cache))
	require.NoError(t, err)
	assert.Equal(t, dir, dir2)
	again := f.requests()[before:]
	if assert.Len(t, again, 1) {
		assert.Equal(t, fakeRequest{server: "hub", method: http.MethodHead, file: "config.json"}, again[0])
	}

	// Pinned to the commit: not a single request.
	before = len(f.requests())
	dir3, err := Resolve(context.Background(), "org/tiny@"+repo.commit, f.options(cache))
	require.NoError(t, err)
	assert.Equal(t, dir, dir3)
	assert.Len(t, f.requests(), before)

	// Airplane mode: HF_HUB_OFFLINE=1 with the servers gone.
	f.close()
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_ENDPOINT", f.hub.URL)
	env, err := FromEnv()
	require.NoError(t, err)
	require.True(t, env.Offline)
	dir4, err := Resolve(context.Background(), "org/tiny", env)
	require.NoError(t, err)
	assert.Equal(t, dir, dir4)

	// The network gone without HF_HUB_OFFLINE: the cache still serves.
	env.Offline = false
	dir5, err := Resolve(context.Background(), "org/tiny", env)
	require.NoError(t, err)
	assert.Equal(t, dir, dir5)
}

func TestResolveShardedWeights(t *testing.T) {
	f := newFakeHub(t)
	repo := shardedRepo("sharded")
	f.addRepo("org/sharded", repo)
	cache := t.TempDir()

	dir, err := Resolve(context.Background(), "org/sharded", f.options(cache))
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/sharded", repo, dir, "config.json", "generation_config.json",
		"model.safetensors.index.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors")
	assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model-00001-of-00002.safetensors"))
	assert.FileExists(t, filepath.Join(cache, "models--org--sharded", ".no_exist", repo.commit, "model.safetensors"))

	f.close()
	opts := f.options(cache)
	opts.Offline = true
	got, err := Resolve(context.Background(), "org/sharded", opts)
	require.NoError(t, err)
	assert.Equal(t, dir, got)

	// A shard gone from the cache makes the snapshot incomplete.
	require.NoError(t, os.Remove(filepath.Join(dir, "model-00002-of-00002.safetensors")))
	_, err = Resolve(context.Background(), "org/sharded", opts)
	assert.ErrorIs(t, err, ErrNotCached)
	assert.ErrorContains(t, err, "model-00002-of-00002.safetensors")
}

func TestResolveResumesInterruptedDownload(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("resume")
	f.addRepo("org/resume", repo)
	f.dropAfter = len(repo.files["model.safetensors"].data) / 2
	cache := t.TempDir()
	weights := repo.files["model.safetensors"].data
	blob := filepath.Join(cache, "models--org--resume", "blobs", sha256Hex(weights))

	_, err := Resolve(context.Background(), "org/resume", f.options(cache))
	require.Error(t, err)
	assert.ErrorContains(t, err, "run again to resume")
	partial, err := os.ReadFile(blob + ".incomplete")
	require.NoError(t, err)
	require.NotEmpty(t, partial)
	require.Less(t, len(partial), len(weights))
	assert.Equal(t, weights[:len(partial)], partial, "the partial file is a prefix of the weights")
	assert.NoFileExists(t, filepath.Join(cache, "models--org--resume", "snapshots", repo.commit, "model.safetensors"))

	dir, err := Resolve(context.Background(), "org/resume", f.options(cache))
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/resume", repo, dir, "model.safetensors")
	assert.NoFileExists(t, blob+".incomplete")

	var ranges []string
	for _, r := range f.requests() {
		if r.method == http.MethodGet && r.file == "model.safetensors" {
			ranges = append(ranges, r.server+" "+r.rng)
		}
	}
	want := "bytes=" + strconv.Itoa(len(partial)) + "-"
	assert.Equal(t, []string{"hub ", "cdn ", "hub " + want, "cdn " + want}, ranges,
		"the second GET resumes with a Range, kept across the redirect")
}

func TestResolveChecksumMismatch(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("corrupt")
	f.addRepo("org/corrupt", repo)
	f.corrupt = true
	cache := t.TempDir()

	_, err := Resolve(context.Background(), "org/corrupt", f.options(cache))
	require.ErrorIs(t, err, ErrChecksum)

	repoDir := filepath.Join(cache, "models--org--corrupt")
	blob := filepath.Join(repoDir, "blobs", sha256Hex(repo.files["model.safetensors"].data))
	assert.NoFileExists(t, blob)
	assert.NoFileExists(t, blob+".incomplete", "a corrupt partial file cannot be resumed")
	_, err = os.Lstat(filepath.Join(repoDir, "snapshots", repo.commit, "model.safetensors"))
	assert.ErrorIs(t, err, fs.ErrNotExist, "nothing half-written in snapshots/")

	// The next try with a sound server succeeds from scratch.
	f.mu.Lock()
	f.corrupt = false
	f.mu.Unlock()
	dir, err := Resolve(context.Background(), "org/corrupt", f.options(cache))
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/corrupt", repo, dir, "model.safetensors")
}

func TestResolveGatedRepo(t *testing.T) {
	const token = "hf_loomTestToken0123456789"
	tests := []struct {
		name    string
		setup   func(t *testing.T, home string)
		wantErr error
	}{
		{"no token", func(t *testing.T, home string) {}, ErrUnauthorized},
		{"wrong token", func(t *testing.T, home string) { t.Setenv("HF_TOKEN", "hf_wrong") }, ErrUnauthorized},
		{"HF_TOKEN", func(t *testing.T, home string) { t.Setenv("HF_TOKEN", token) }, nil},
		{"token file", func(t *testing.T, home string) {
			require.NoError(t, os.WriteFile(filepath.Join(home, "token"), []byte(token+"\n"), 0o600))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearHFEnv(t)
			f := newFakeHub(t)
			repo := tinyRepo("gated")
			repo.token = token
			f.addRepo("org/gated", repo)
			home := t.TempDir()
			t.Setenv("HF_HOME", home)
			t.Setenv("HF_ENDPOINT", f.hub.URL)
			tt.setup(t, home)
			opts, err := FromEnv()
			require.NoError(t, err)

			dir, err := Resolve(context.Background(), "org/gated", opts)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				assert.ErrorContains(t, err, "token")
				assert.Zero(t, f.count("hub", http.MethodGet, ""))
				return
			}
			require.NoError(t, err)
			assertSnapshot(t, filepath.Join(home, "hub"), "org/gated", repo, dir, "config.json", "model.safetensors")
			assert.Equal(t, 1, f.count("cdn", http.MethodGet, "model.safetensors"))
			for _, r := range f.requests() {
				if r.server == "cdn" {
					assert.Empty(t, r.auth, "the token never goes to the CDN host")
				} else {
					assert.Equal(t, "Bearer "+token, r.auth)
				}
			}
		})
	}
}

func TestResolveRecordsMissingOptionalFile(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("noexist")
	f.addRepo("org/noexist", repo)
	cache := t.TempDir()

	_, err := Resolve(context.Background(), "org/noexist", f.options(cache))
	require.NoError(t, err)
	marker := filepath.Join(cache, "models--org--noexist", ".no_exist", repo.commit, "generation_config.json")
	fi, err := os.Stat(marker)
	require.NoError(t, err)
	assert.Zero(t, fi.Size())
	assert.Equal(t, 1, f.count("hub", http.MethodHead, "generation_config.json"))
	assert.Zero(t, f.count("hub", http.MethodGet, "generation_config.json"))

	for _, ref := range []string{"org/noexist", "org/noexist@" + repo.commit} {
		_, err = Resolve(context.Background(), ref, f.options(cache))
		require.NoError(t, err)
	}
	assert.Equal(t, 1, f.count("hub", "", "generation_config.json"), "the cached 404 is not asked again")

	// A required file the hub does not have is an error, recorded the same way.
	opts := f.options(cache)
	opts.ExtraFiles = []string{"missing.txt"}
	_, err = Resolve(context.Background(), "org/noexist", opts)
	require.ErrorIs(t, err, ErrEntryNotFound)
	assert.FileExists(t, filepath.Join(cache, "models--org--noexist", ".no_exist", repo.commit, "missing.txt"))
	opts.ExtraFiles = []string{"README.md"}
	dir, err := Resolve(context.Background(), "org/noexist", opts)
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/noexist", repo, dir, "README.md")
}

func TestResolveRejectsUnsafeNames(t *testing.T) {
	tests := []struct {
		name  string
		shard string // listed in the index; "" to use extra instead
		extra string
	}{
		{"index parent", "../evil.safetensors", ""},
		{"index nested parent", "sub/../../evil.safetensors", ""},
		{"index absolute", "/tmp/evil.safetensors", ""},
		{"index backslash", `..\evil.safetensors`, ""},
		{"index drive", "C:/evil.safetensors", ""},
		{"index not safetensors", "pytorch_model.bin", ""},
		{"extra parent", "", "../../../../etc/passwd"},
		{"extra absolute", "", "/etc/passwd"},
		{"extra empty segment", "", "a//b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t)
			repo := shardedRepo("hostile")
			opts := f.options(filepath.Join(t.TempDir(), "cache"))
			if tt.shard != "" {
				repo.files["model.safetensors.index.json"] = fakeFile{data: []byte(
					`{"weight_map":{"a":"model-00001-of-00002.safetensors","b":` + quoteJSON(tt.shard) + `}}`)}
			} else {
				opts.ExtraFiles = []string{tt.extra}
			}
			f.addRepo("org/hostile", repo)

			_, err := Resolve(context.Background(), "org/hostile", opts)
			require.ErrorIs(t, err, ErrBadFilename)
			for _, r := range f.requests() {
				assert.NotContains(t, r.file, "evil")
				assert.NotContains(t, r.file, "passwd")
				assert.NotEqual(t, "pytorch_model.bin", r.file)
			}
			entries, err := os.ReadDir(filepath.Dir(opts.CacheDir))
			require.NoError(t, err)
			for _, e := range entries {
				assert.Equal(t, "cache", e.Name(), "nothing written beside the cache")
			}
		})
	}
}

func quoteJSON(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func TestResolveNotCachedOffline(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo("org/tiny", tinyRepo("tiny"))
	cache := t.TempDir()

	opts := f.options(cache)
	opts.Offline = true
	_, err := Resolve(context.Background(), "org/tiny", opts)
	require.ErrorIs(t, err, ErrNotCached)
	assert.ErrorContains(t, err, "not in the local cache")
	assert.ErrorContains(t, err, "offline mode is on (HF_HUB_OFFLINE)")
	assert.Empty(t, f.requests(), "offline means no request at all")

	// Unreachable hub, empty cache: both facts are in the error.
	f.close()
	_, err = Resolve(context.Background(), "org/tiny", f.options(cache))
	require.ErrorIs(t, err, ErrNotCached)
	assert.ErrorIs(t, err, errUnreachable)
}

func TestResolveFallsBackWhenHubDown(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("down")
	f.addRepo("org/down", repo)
	cache := t.TempDir()
	dir, err := Resolve(context.Background(), "org/down", f.options(cache))
	require.NoError(t, err)

	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	got, err := Resolve(context.Background(), "org/down", f.options(cache))
	require.NoError(t, err, "a 503 falls back to the cached snapshot")
	assert.Equal(t, dir, got)

	// A file missing from the snapshot cannot be fetched now.
	require.NoError(t, os.Remove(filepath.Join(dir, "tokenizer.json")))
	_, err = Resolve(context.Background(), "org/down@"+repo.commit, f.options(cache))
	require.ErrorIs(t, err, ErrNotCached)
	assert.ErrorIs(t, err, errUnreachable)
	assert.ErrorContains(t, err, "tokenizer.json")
}

func TestResolveReplacesDamagedBlob(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("damaged")
	f.addRepo("org/damaged", repo)
	cache := t.TempDir()
	dir, err := Resolve(context.Background(), "org/damaged", f.options(cache))
	require.NoError(t, err)

	weights := repo.files["model.safetensors"].data
	blob := filepath.Join(cache, "models--org--damaged", "blobs", sha256Hex(weights))
	require.NoError(t, os.Truncate(blob, 10))
	require.NoError(t, os.Remove(filepath.Join(dir, "model.safetensors")))
	_, err = Resolve(context.Background(), "org/damaged", f.options(cache))
	require.NoError(t, err)
	assertSnapshot(t, cache, "org/damaged", repo, dir, "model.safetensors")
	assert.Equal(t, 2, f.count("cdn", http.MethodGet, "model.safetensors"))
}

func TestResolveSymlinkFallback(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("nolinks")
	f.addRepo("org/nolinks", repo)
	cache := t.TempDir()
	symlink = func(string, string) error { return errors.New("symlinks not supported") }
	t.Cleanup(func() { symlink = os.Symlink })

	dir, err := Resolve(context.Background(), "org/nolinks", f.options(cache))
	require.NoError(t, err)
	for _, name := range []string{"config.json", "model.safetensors"} {
		p := filepath.Join(dir, name)
		fi, err := os.Lstat(p)
		require.NoError(t, err)
		assert.True(t, fi.Mode().IsRegular(), "%s is a plain file", name)
		got, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.Equal(t, repo.files[name].data, got)
	}
	// As huggingface_hub does, a new blob is moved, not duplicated.
	assert.NoFileExists(t, filepath.Join(cache, "models--org--nolinks", "blobs", sha256Hex(repo.files["model.safetensors"].data)))

	// A blob another snapshot still uses is copied.
	blob := filepath.Join(t.TempDir(), "blob")
	require.NoError(t, os.WriteFile(blob, []byte("shared"), 0o644))
	pointer := filepath.Join(t.TempDir(), "snap", "file")
	require.NoError(t, link(blob, pointer, false))
	got, err := os.ReadFile(pointer)
	require.NoError(t, err)
	assert.Equal(t, "shared", string(got))
	assert.FileExists(t, blob)
}

func TestResolveHubErrors(t *testing.T) {
	f := newFakeHub(t)
	f.addRepo("org/tiny", tinyRepo("tiny"))
	cache := t.TempDir()
	tests := []struct {
		ref  string
		want error
	}{
		{"org/absent", ErrRepoNotFound},
		{"org/tiny@no-such-branch", ErrRevisionNotFound},
		{"org/tiny@refs/pr/1", ErrRevisionNotFound},
		{"not a repo", ErrInvalidRepoID},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := Resolve(context.Background(), tt.ref, f.options(cache))
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, err := Resolve(context.Background(), "org/tiny", Options{Endpoint: f.hub.URL})
	assert.ErrorIs(t, err, ErrNoCacheDir)
	_, err = Resolve(context.Background(), "org/tiny", Options{CacheDir: cache, Endpoint: "ftp://example"})
	assert.ErrorContains(t, err, "endpoint")
}

// TestResolveHostileServer checks that a server breaking the protocol gets
// an error, never a panic or a file outside the cache.
func TestResolveHostileServer(t *testing.T) {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	tests := []struct {
		name    string
		headers map[string]string
		body    string // sent for GET
		want    error
	}{
		{"no commit", map[string]string{"ETag": `"abc"`, "Content-Length": "3"}, "abc", ErrMalformed},
		{"commit path", map[string]string{"X-Repo-Commit": "../../x", "ETag": `"abc"`, "Content-Length": "3"}, "abc", ErrMalformed},
		{"etag path", map[string]string{"X-Repo-Commit": commit, "ETag": `"../../../evil"`, "Content-Length": "3"}, "abc", ErrMalformed},
		{"no etag", map[string]string{"X-Repo-Commit": commit, "Content-Length": "3"}, "abc", ErrMalformed},
		{"negative size", map[string]string{"X-Repo-Commit": commit, "ETag": `"abc"`, "X-Linked-Size": "-5"}, "abc", ErrMalformed},
		{"huge size", map[string]string{"X-Repo-Commit": commit, "ETag": `"abc"`, "X-Linked-Size": "99999999999999999"}, "abc", ErrTooLarge},
		{"body too long", map[string]string{"X-Repo-Commit": commit, "ETag": `"abc"`, "X-Linked-Size": "3"}, "abcdef", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newHostile(t, tt.headers, tt.body)
			root := t.TempDir()
			_, err := Resolve(context.Background(), "org/x", Options{CacheDir: filepath.Join(root, "cache"), Endpoint: srv})
			require.ErrorIs(t, err, tt.want)
			entries, err := os.ReadDir(root)
			require.NoError(t, err)
			for _, e := range entries {
				assert.Equal(t, "cache", e.Name())
			}
		})
	}
}

func TestModelDir(t *testing.T) {
	f := newFakeHub(t)
	repo := tinyRepo("tiny")
	f.addRepo("org/tiny", repo)
	cache := t.TempDir()
	local := t.TempDir()

	got, err := ModelDir(context.Background(), local, f.options(cache))
	require.NoError(t, err)
	assert.Equal(t, local, got)

	got, err = ModelDir(context.Background(), "org/tiny", f.options(cache))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(cache, "models--org--tiny", "snapshots", repo.commit), got)

	_, err = ModelDir(context.Background(), filepath.Join(local, "no", "such", "dir"), f.options(cache))
	assert.ErrorIs(t, err, ErrInvalidRepoID)
	assert.ErrorContains(t, err, "neither a local folder nor a Hub repo id")
}

// newHostile serves every HEAD with headers and every GET with headers and
// body, and returns its URL.
func newHostile(t *testing.T, headers map[string]string, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range headers {
			if r.Method == http.MethodGet && k == "Content-Length" {
				continue
			}
			w.Header().Set(k, v)
		}
		if r.Method == http.MethodGet {
			w.Write([]byte(body))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
