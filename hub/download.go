package hub

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// copyBuf is the download buffer; Progress is called once per read.
const copyBuf = 256 << 10

// errStalled cancels a download that received nothing for idleTimeout.
var errStalled = errors.New("download stalled")

// symlink is os.Symlink; tests replace it to exercise the copy fallback.
var symlink = os.Symlink

// fetch puts one file of the snapshot in place, under the blob's lock (so
// that concurrent processes, Python's included, download it once):
// blobs/<etag> is downloaded unless present, then snapshots/<commit>/<name>
// is made to point at it.
func (r *resolver) fetch(ctx context.Context, name string, m meta) error {
	blob := filepath.Join(r.repoDir, "blobs", m.etag)
	pointer := filepath.Join(r.repoDir, "snapshots", m.commit, filepath.FromSlash(name))
	lock, err := lockFile(ctx, filepath.Join(r.opts.CacheDir, ".locks", repoFolder(r.repo), m.etag+".lock"))
	if err != nil {
		return err
	}
	defer lock.unlock()

	if exists(pointer) { // another process finished it while we waited
		return nil
	}
	newBlob := false
	// A blob of the wrong size (damaged) is downloaded again over itself.
	if fi, err := os.Stat(blob); err == nil && fi.Mode().IsRegular() && fi.Size() == m.size {
		r.progress(name, fi.Size(), fi.Size())
	} else {
		if err := r.download(ctx, name, m, blob); err != nil {
			return err
		}
		newBlob = true
	}
	if err := link(blob, pointer, newBlob); err != nil {
		return fmt.Errorf("hub: %s: %s: %w", r.repo, name, err)
	}
	return nil
}

// download fills blobs/<etag> from the hub: bytes go to
// blobs/<etag>.incomplete (huggingface_hub 0.x's name; 1.x writes
// <etag>.<random>.incomplete and never resumes), resumed with a Range
// request when it already holds some; the complete file is checked (size,
// and sha256 for LFS etags) then renamed into place. A checksum failure
// deletes the partial file; an interrupted transfer keeps it for the next
// call. The blob's lock (see fetch) keeps other processes off the partial
// file.
func (r *resolver) download(ctx context.Context, name string, m meta, blob string) error {
	fail := func(err error) error { return fmt.Errorf("hub: %s: %s: %w", r.repo, name, err) }
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		return fail(err)
	}
	incomplete := blob + ".incomplete"
	f, err := os.OpenFile(incomplete, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fail(err)
	}
	if have > m.size { // not a prefix of this file: start over
		if have, err = restart(f); err != nil {
			return fail(err)
		}
	}
	var h hash.Hash
	if m.lfs() {
		h = sha256.New()
		if have > 0 {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return fail(err)
			}
			if _, err := io.CopyN(h, f, have); err != nil {
				return fail(err)
			}
		}
	}
	if have < m.size {
		have, err = r.transfer(ctx, name, m, f, h, have)
		if err != nil {
			return fail(err)
		}
	}
	if have != m.size {
		return fail(fmt.Errorf("got %d of %d bytes (run again to resume): %w", have, m.size, io.ErrUnexpectedEOF))
	}
	if h != nil {
		if sum := hex.EncodeToString(h.Sum(nil)); sum != m.etag {
			f.Close()
			os.Remove(incomplete)
			return fail(fmt.Errorf("%w: sha256 %s, want %s; the partial file was deleted", ErrChecksum, sum, m.etag))
		}
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(incomplete, blob); err != nil {
		return fail(err)
	}
	return nil
}

// transfer GETs the file from offset have on, appending to f and h, until
// m.size bytes are there or the body ends; it returns how many bytes f
// holds. A server that ignores the Range (200) restarts the file.
func (r *resolver) transfer(ctx context.Context, name string, m meta, f *os.File, h hash.Hash, have int64) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(idleTimeout, func() { cancel(errStalled) })
	defer timer.Stop()

	resp, err := r.client.get(ctx, r.repo, m.commit, name, have)
	if err != nil {
		return have, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		if start, ok := rangeStart(resp.Header.Get("Content-Range")); !ok || start != have {
			return have, fmt.Errorf("%w: Content-Range %q for a request from byte %d", ErrMalformed, clip(resp.Header.Get("Content-Range")), have)
		}
	case resp.StatusCode == http.StatusOK:
		if have > 0 {
			if have, err = restart(f); err != nil {
				return have, err
			}
			if h != nil {
				h.Reset()
			}
		}
	default:
		return have, r.client.statusError(resp, resp.Request.URL)
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return have, err
	}

	r.progress(name, have, m.size)
	buf := make([]byte, copyBuf)
	// One byte beyond the announced size is read to catch an overlong body.
	body := io.LimitReader(resp.Body, m.size-have+1)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			timer.Reset(idleTimeout)
			if have+int64(n) > m.size {
				return have, fmt.Errorf("%w: body longer than the announced %d bytes", ErrMalformed, m.size)
			}
			if _, err := f.Write(buf[:n]); err != nil {
				return have, err
			}
			if h != nil {
				h.Write(buf[:n])
			}
			have += int64(n)
			r.progress(name, have, m.size)
		}
		if rerr == io.EOF {
			return have, nil // the caller compares have with the size
		}
		if rerr != nil {
			if ctx.Err() != nil {
				rerr = context.Cause(ctx)
			}
			return have, fmt.Errorf("interrupted at %d of %d bytes (run again to resume): %w", have, m.size, rerr)
		}
	}
}

// restart empties a partial file.
func restart(f *os.File) (int64, error) {
	if err := f.Truncate(0); err != nil {
		return 0, err
	}
	_, err := f.Seek(0, io.SeekStart)
	return 0, err
}

// rangeStart parses the first byte of "bytes START-END/TOTAL".
func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil && n >= 0
}

// link makes pointer refer to blob like huggingface_hub's _create_symlink: a
// relative symlink (../../blobs/<etag>) where the file system allows it;
// otherwise (Windows without developer mode, some Android storage) the blob
// is moved into the snapshot when this call downloaded it, or copied when
// another snapshot already shares it.
func link(blob, pointer string, newBlob bool) error {
	if err := os.MkdirAll(filepath.Dir(pointer), 0o755); err != nil {
		return err
	}
	if err := os.Remove(pointer); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(pointer), blob)
	if err != nil {
		rel = blob
	}
	if symlink(rel, pointer) == nil {
		return nil
	}
	if newBlob {
		return os.Rename(blob, pointer)
	}
	return copyFile(blob, pointer)
}

// copyFile copies src to dst through a temporary file renamed into place,
// so dst is never seen half-written.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
	}
	return err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
