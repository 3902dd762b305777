package hub

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeFile is one file of a fake repository; LFS files are served the way
// the Hub serves them: a 302 to a CDN host carrying X-Linked-Etag (the
// sha256) and X-Linked-Size.
type fakeFile struct {
	data []byte
	lfs  bool
}

// fakeRepo is a repository at one commit, reachable as "main" or by the
// commit. token, when set, makes it gated: requests need that bearer token.
type fakeRepo struct {
	commit string
	files  map[string]fakeFile
	token  string
}

// fakeRequest is one request a fake server saw.
type fakeRequest struct {
	server string // "hub" or "cdn"
	method string
	file   string // repository file name
	rng    string // Range header
	auth   string // Authorization header
}

// fakeHub is a loopback Hugging Face Hub: hub serves
// /{org}/{name}/resolve/{revision}/{file} with the Hub's headers
// (X-Repo-Commit, quoted ETag = git blob id for small files, X-Linked-Etag /
// X-Linked-Size and a 302 to cdn for LFS files, X-Error-Code on errors), and
// cdn serves LFS blobs with Range support (http.ServeContent).
type fakeHub struct {
	hub, cdn *httptest.Server

	mu    sync.Mutex
	repos map[string]*fakeRepo
	blobs map[string]fakeFile // sha256 -> LFS file
	names map[string]string   // sha256 -> file name
	reqs  []fakeRequest

	// Misbehaviours, set by tests before the first request.
	dropAfter  int  // abort the first CDN GET after this many body bytes
	dropped    bool //
	corrupt    bool // flip one byte of every CDN body
	waitHeads  int  // CDN GETs wait until the hub saw this many HEADs of the same file
	waitedOK   bool // a wait ended because the HEADs arrived
	waitedMiss bool // a wait timed out
	down       bool // the hub answers 503 to everything
}

func newFakeHub(t *testing.T) *fakeHub {
	t.Helper()
	f := &fakeHub{repos: map[string]*fakeRepo{}, blobs: map[string]fakeFile{}, names: map[string]string{}}
	f.hub = httptest.NewServer(http.HandlerFunc(f.serveHub))
	f.cdn = httptest.NewServer(http.HandlerFunc(f.serveCDN))
	t.Cleanup(f.close)
	return f
}

func (f *fakeHub) close() {
	f.hub.Close()
	f.cdn.Close()
}

func (f *fakeHub) addRepo(id string, r *fakeRepo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.repos[id] = r
	for name, file := range r.files {
		if file.lfs {
			sum := sha256Hex(file.data)
			f.blobs[sum] = file
			f.names[sum] = name
		}
	}
}

func (f *fakeHub) record(server string, r *http.Request, file string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, fakeRequest{server, r.Method, file, r.Header.Get("Range"), r.Header.Get("Authorization")})
}

// count returns how many requests matched server, method and file ("" for
// any).
func (f *fakeHub) count(server, method, file string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reqs {
		if r.server == server && (method == "" || r.method == method) && (file == "" || r.file == file) {
			n++
		}
	}
	return n
}

func (f *fakeHub) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

func (f *fakeHub) serveHub(w http.ResponseWriter, r *http.Request) {
	// The escaped path keeps a revision like refs%2Fpr%2F1 in one segment.
	parts := strings.SplitN(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/", 5)
	if len(parts) != 5 || parts[2] != "resolve" {
		f.record("hub", r, "")
		http.NotFound(w, r)
		return
	}
	rev, err1 := url.PathUnescape(parts[3])
	name, err2 := url.PathUnescape(parts[4])
	f.record("hub", r, name)
	if err1 != nil || err2 != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	repo, down := f.repos[parts[0]+"/"+parts[1]], f.down
	f.mu.Unlock()
	if down {
		http.Error(w, "Service Unavailable", http.StatusServiceUnavailable)
		return
	}
	hubError := func(status int, code, msg string) {
		w.Header().Set("X-Error-Code", code)
		w.Header().Set("X-Error-Message", msg)
		http.Error(w, msg, status)
	}
	if repo == nil {
		hubError(http.StatusUnauthorized, "RepoNotFound", "Repository not found")
		return
	}
	if repo.token != "" && r.Header.Get("Authorization") != "Bearer "+repo.token {
		hubError(http.StatusUnauthorized, "GatedRepo", "Access to model "+parts[0]+"/"+parts[1]+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
		return
	}
	if rev != "main" && rev != repo.commit {
		hubError(http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	w.Header().Set("X-Repo-Commit", repo.commit)
	file, ok := repo.files[name]
	if !ok {
		hubError(http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	if file.lfs {
		sum := sha256Hex(file.data)
		pointer := fmt.Sprintf("version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", sum, len(file.data))
		w.Header().Set("ETag", `"`+gitBlobID([]byte(pointer))+`"`)
		w.Header().Set("X-Linked-Etag", `"`+sum+`"`)
		w.Header().Set("X-Linked-Size", strconv.Itoa(len(file.data)))
		w.Header().Set("Location", f.cdn.URL+"/repos/ab/cd/"+sum+"?X-Amz-Signature=fake&response-content-disposition=attachment")
		w.WriteHeader(http.StatusFound)
		return
	}
	w.Header().Set("ETag", `"`+gitBlobID(file.data)+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(file.data))
}

func (f *fakeHub) serveCDN(w http.ResponseWriter, r *http.Request) {
	sum := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	f.mu.Lock()
	file, ok := f.blobs[sum]
	name := f.names[sum]
	waitHeads := f.waitHeads
	f.mu.Unlock()
	f.record("cdn", r, name)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if waitHeads > 0 && r.Method == http.MethodGet {
		f.awaitHeads(name, waitHeads)
	}
	data := file.data
	f.mu.Lock()
	if f.corrupt {
		data = bytes.Clone(data)
		data[len(data)/2] ^= 0x01
	}
	drop := f.dropAfter > 0 && !f.dropped && r.Method == http.MethodGet
	if drop {
		f.dropped = true
	}
	f.mu.Unlock()
	if drop {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:f.dropAfter])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // net/http's documented way to cut a response short
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// awaitHeads blocks (at most 10 s) until the hub has seen n HEADs of name.
func (f *fakeHub) awaitHeads(name string, n int) {
	deadline := time.Now().Add(10 * time.Second)
	for f.count("hub", http.MethodHead, name) < n {
		if time.Now().After(deadline) {
			f.mu.Lock()
			f.waitedMiss = true
			f.mu.Unlock()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.mu.Lock()
	f.waitedOK = true
	f.mu.Unlock()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// gitBlobID is git's object id for a file: sha1("blob <size>\0" + content),
// the ETag the Hub sends for files stored in git.
func gitBlobID(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// pseudoBytes is n deterministic bytes (a sha256 counter stream), standing
// in for weights.
func pseudoBytes(seed string, n int) []byte {
	out := make([]byte, 0, n+32)
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256([]byte(seed + strconv.Itoa(i)))
		out = append(out, s[:]...)
	}
	return out[:n]
}

// tinyRepo is a small model repository like SmolLM2's: small git files, an
// LFS model.safetensors, and no generation_config.json (so a 404).
func tinyRepo(commitSeed string) *fakeRepo {
	return &fakeRepo{
		commit: gitBlobID([]byte(commitSeed)),
		files: map[string]fakeFile{
			"config.json":           {data: []byte(`{"architectures":["LlamaForCausalLM"],"hidden_size":64,"model_type":"llama"}` + "\n")},
			"tokenizer.json":        {data: []byte(`{"version":"1.0","model":{"type":"BPE","vocab":{"a":0},"merges":[]}}` + "\n")},
			"tokenizer_config.json": {data: []byte(`{"bos_token":"<s>","eos_token":"</s>"}` + "\n")},
			"model.safetensors":     {data: pseudoBytes(commitSeed+"weights", 1<<20+123), lfs: true},
			"README.md":             {data: []byte("# tiny\n")},
		},
	}
}

// shardedRepo splits its weights over two LFS shards listed in an index,
// and has a generation_config.json.
func shardedRepo(commitSeed string) *fakeRepo {
	r := tinyRepo(commitSeed)
	delete(r.files, "model.safetensors")
	r.files["generation_config.json"] = fakeFile{data: []byte(`{"eos_token_id":2}` + "\n")}
	r.files["model-00001-of-00002.safetensors"] = fakeFile{data: pseudoBytes(commitSeed+"s1", 300_000), lfs: true}
	r.files["model-00002-of-00002.safetensors"] = fakeFile{data: pseudoBytes(commitSeed+"s2", 200_000), lfs: true}
	r.files["model.safetensors.index.json"] = fakeFile{data: []byte(`{"metadata":{"total_size":500000},"weight_map":{` +
		`"a.weight":"model-00001-of-00002.safetensors","b.weight":"model-00002-of-00002.safetensors",` +
		`"c.weight":"model-00001-of-00002.safetensors"}}`)}
	return r
}
