// Command fakehub serves one model folder as a Hugging Face Hub repository
// on 127.0.0.1, for the Godot test of LoomModel.model_id
// (extension/godot-test/tests/test_hub.gd). It answers the resolve URLs the
// way huggingface.co does:
//
//   - HEAD or GET {repo}/resolve/{main|commit}/{file} of a small file: 200
//     with X-Repo-Commit, ETag (the git blob id) and Content-Length;
//   - the same for a *.safetensors file (an LFS file): 302 to an absolute
//     /cdn/{sha256} URL, with X-Repo-Commit, X-Linked-Etag (the sha256) and
//     X-Linked-Size, so HEAD learns the size from the redirect itself;
//   - an unknown file: 404 with X-Error-Code EntryNotFound; another repo:
//     401 with X-Error-Code RepoNotFound.
//
// It writes its base URL to -addr-file once it listens. -delay slows every
// read of a download, so that the client reports progress several times.
//
//	fakehub -repo loom/tiny-chat -dir testdata/models/tiny-chat -addr-file F [-delay 5ms]
package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// file is one served file with its hub metadata.
type file struct {
	data []byte
	etag string // git blob id, or sha256 for LFS files
	lfs  bool
}

func main() {
	repo := flag.String("repo", "", "repository id served, org/name")
	dir := flag.String("dir", "", "folder whose files the repository holds")
	addrFile := flag.String("addr-file", "", "file to write the base URL to")
	delay := flag.Duration("delay", 0, "pause before every read of a download")
	flag.Parse()
	if *repo == "" || *dir == "" || *addrFile == "" {
		log.Fatal("fakehub: -repo, -dir and -addr-file are required")
	}
	files, err := readFiles(*dir)
	if err != nil {
		log.Fatalf("fakehub: %v", err)
	}
	commitSum := sha1.Sum([]byte("fakehub " + *repo))
	commit := hex.EncodeToString(commitSum[:])

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("fakehub: %v", err)
	}
	base := "http://" + ln.Addr().String()
	lfs := map[string]*file{} // by sha256
	for _, f := range files {
		if f.lfs {
			lfs[f.etag] = f
		}
	}
	serve := func(w http.ResponseWriter, r *http.Request, f *file) {
		http.ServeContent(w, r, "", time.Time{}, &slowReader{bytes.NewReader(f.data), *delay})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/{org}/{name}/resolve/{rev}/{file}", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.PathValue("org")+"/"+r.PathValue("name") != *repo {
			h.Set("X-Error-Code", "RepoNotFound")
			http.Error(w, "Repository not found", http.StatusUnauthorized)
			return
		}
		if rev := r.PathValue("rev"); rev != "main" && rev != commit {
			h.Set("X-Error-Code", "RevisionNotFound")
			http.Error(w, "Invalid rev id: "+rev, http.StatusNotFound)
			return
		}
		f, ok := files[r.PathValue("file")]
		if !ok {
			h.Set("X-Error-Code", "EntryNotFound")
			http.Error(w, "Entry not found", http.StatusNotFound)
			return
		}
		h.Set("X-Repo-Commit", commit)
		if f.lfs {
			h.Set("X-Linked-Etag", `"`+f.etag+`"`)
			h.Set("X-Linked-Size", fmt.Sprint(len(f.data)))
			http.Redirect(w, r, base+"/cdn/"+f.etag, http.StatusFound)
			return
		}
		h.Set("ETag", `"`+f.etag+`"`)
		serve(w, r, f)
	})
	mux.HandleFunc("/cdn/{sha}", func(w http.ResponseWriter, r *http.Request) {
		f, ok := lfs[r.PathValue("sha")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, r, f)
	})
	if err := writeAtomic(*addrFile, base); err != nil {
		log.Fatalf("fakehub: %v", err)
	}
	log.Fatal(http.Serve(ln, mux))
}

// readFiles loads the regular files directly in dir; *.safetensors files
// are served as LFS files.
func readFiles(dir string) (map[string]*file, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	files := map[string]*file{}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		f := &file{data: data, lfs: strings.HasSuffix(e.Name(), ".safetensors")}
		if f.lfs {
			sum := sha256.Sum256(data)
			f.etag = hex.EncodeToString(sum[:])
		} else {
			// git hash-object: sha1 of "blob <size>\0" and the content.
			h := sha1.New()
			fmt.Fprintf(h, "blob %d\x00", len(data))
			h.Write(data)
			f.etag = hex.EncodeToString(h.Sum(nil))
		}
		files[e.Name()] = f
	}
	return files, nil
}

// writeAtomic writes data to path through a rename, so a reader polling for
// path never sees it half written.
func writeAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// slowReader pauses before every Read.
type slowReader struct {
	*bytes.Reader
	delay time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.delay)
	return s.Reader.Read(p)
}
