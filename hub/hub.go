// Package hub fetches models from the Hugging Face Hub into the standard
// Hugging Face cache, shared with Python tools, and serves them from it
// offline afterwards.
//
// The cache layout is huggingface_hub's: under Options.CacheDir (HF_HUB_CACHE,
// ~/.cache/huggingface/hub by default) a repository org/name lives in
// models--org--name/ with
//
//	blobs/<etag>                  file contents, named by etag (sha256 for LFS files)
//	snapshots/<commit>/<file>     relative symlinks to ../../blobs/<etag> (moved or
//	                              copied files where symlinks fail)
//	refs/<revision>               the commit a branch or tag last resolved to
//	.no_exist/<commit>/<file>     empty markers for files the hub answered 404
//
// and downloads lock <CacheDir>/.locks/models--org--name/<etag>.lock, so
// Loom and Python processes can share one cache, even at the same time.
//
// Which files: Resolve fetches the files Loom reads, by their known names
// (config.json, tokenizer.json, tokenizer_config.json,
// generation_config.json, model.safetensors or model.safetensors.index.json
// and the shards it lists) rather than listing the repository through
// /api/models/{repo}/revision/{revision} and globbing *.safetensors: the
// resolve endpoint is all a mirror needs to serve, and a glob would also
// fetch duplicate weights some repositories carry (Mistral's
// consolidated.safetensors). Anything else is fetched only when named in
// Options.ExtraFiles.
package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// The files Resolve fetches.
const (
	configFile           = "config.json"
	generationConfigFile = "generation_config.json"
	tokenizerFile        = "tokenizer.json"
	tokenizerConfigFile  = "tokenizer_config.json"
	weightsFile          = "model.safetensors"
	weightsIndexFile     = "model.safetensors.index.json"
)

const (
	maxIndexFile = 64 << 20 // a model.safetensors.index.json
	maxShards    = 10000    // distinct files an index may list
	maxRefFile   = 1 << 10  // a refs/<revision> file
)

// errOfflineMode is the reason given when Options.Offline forbids the
// network.
var errOfflineMode = errors.New("offline mode is on (HF_HUB_OFFLINE)")

// Resolve returns the snapshot folder of a model repository, "org/name" or
// "org/name@revision", holding the files the engine loads (see the package
// comment), downloading those missing from the cache.
//
// A branch or tag costs one HEAD request (config.json) to learn its commit;
// files already in that commit's snapshot are not requested again, nor are
// optional files the hub answered 404 for (recorded in .no_exist). A commit
// hash whose snapshot is complete costs no request at all. Offline
// (Options.Offline), or when the hub cannot be reached, the snapshot that
// refs/<revision> points to is returned if it holds every required file;
// otherwise the error wraps ErrNotCached.
func Resolve(ctx context.Context, ref string, opts Options) (string, error) {
	repo, revision, err := ParseRepoID(ref)
	if err != nil {
		return "", err
	}
	if opts.CacheDir == "" {
		return "", fmt.Errorf("hub: %s: %w: set HF_HUB_CACHE or HF_HOME", ref, ErrNoCacheDir)
	}
	for _, name := range opts.ExtraFiles {
		if err := checkFilename(name); err != nil {
			return "", err
		}
	}
	r := &resolver{
		repo:     repo,
		revision: revision,
		opts:     opts,
		repoDir:  filepath.Join(opts.CacheDir, repoFolder(repo)),
	}
	if opts.Offline {
		return r.fromCache(errOfflineMode)
	}
	if r.client, err = newClient(opts.Endpoint, opts.Token); err != nil {
		return "", err
	}
	dir, err := r.online(ctx)
	if errors.Is(err, errUnreachable) && ctx.Err() == nil {
		return r.fromCache(err)
	}
	return dir, err
}

// ModelDir turns a command-line model argument into a folder to load: an
// existing local path is returned as is, a repo id (org/name[@revision]) is
// resolved through the cache with Resolve; anything else is an error.
func ModelDir(ctx context.Context, arg string, opts Options) (string, error) {
	if _, err := os.Stat(arg); err == nil {
		return arg, nil
	}
	if _, _, err := ParseRepoID(arg); err != nil {
		return "", fmt.Errorf("hub: model %q is neither a local folder nor a Hub repo id: %w", arg, err)
	}
	return Resolve(ctx, arg, opts)
}

// resolver carries one Resolve call.
type resolver struct {
	repo, revision string
	commit         string // set once the revision is resolved
	opts           Options
	repoDir        string // <cache>/models--org--name
	client         *client
}

func (r *resolver) snapshot() string {
	return filepath.Join(r.repoDir, "snapshots", r.commit)
}

func (r *resolver) snapshotFile(name string) string {
	return filepath.Join(r.snapshot(), filepath.FromSlash(name))
}

func (r *resolver) progress(name string, downloaded, total int64) {
	if r.opts.Progress != nil {
		r.opts.Progress(name, downloaded, total)
	}
}

func (r *resolver) online(ctx context.Context) (string, error) {
	var first *meta
	r.commit = r.revision
	if !isCommitHash(r.revision) {
		m, err := r.client.head(ctx, r.repo, r.revision, configFile)
		if err != nil {
			return "", err
		}
		r.commit, first = m.commit, &m
		if err := r.writeRef(); err != nil {
			return "", err
		}
	}
	tagCache(r.opts.CacheDir)

	if _, err := r.file(ctx, configFile, true, first); err != nil {
		return "", err
	}
	if _, err := r.file(ctx, tokenizerFile, true, nil); err != nil {
		return "", err
	}
	for _, name := range []string{tokenizerConfigFile, generationConfigFile} {
		if _, err := r.file(ctx, name, false, nil); err != nil {
			return "", err
		}
	}
	single, err := r.file(ctx, weightsFile, false, nil)
	if err != nil {
		return "", err
	}
	if !single {
		indexed, err := r.file(ctx, weightsIndexFile, false, nil)
		if err != nil {
			return "", err
		}
		if !indexed {
			return "", fmt.Errorf("hub: %s@%s: %w: neither %s nor %s (Loom loads safetensors weights only)",
				r.repo, r.commit, ErrEntryNotFound, weightsFile, weightsIndexFile)
		}
		shards, err := readIndex(r.snapshotFile(weightsIndexFile))
		if err != nil {
			return "", fmt.Errorf("hub: %s@%s: %w", r.repo, r.commit, err)
		}
		for _, s := range shards {
			if _, err := r.file(ctx, s, true, nil); err != nil {
				return "", err
			}
		}
	}
	for _, name := range r.opts.ExtraFiles {
		if _, err := r.file(ctx, name, true, nil); err != nil {
			return "", err
		}
	}
	return r.snapshot(), nil
}

// file makes sure snapshots/<commit>/<name> exists, reporting whether it
// does. A file the hub answers 404 for is recorded in .no_exist/<commit>/
// and, while that marker exists, never asked for again; that is an error
// for a required file and false for an optional one. m, when not nil, is
// the file's metadata already fetched.
func (r *resolver) file(ctx context.Context, name string, required bool, m *meta) (bool, error) {
	if exists(r.snapshotFile(name)) {
		return true, nil
	}
	noExist := filepath.Join(r.repoDir, ".no_exist", r.commit, filepath.FromSlash(name))
	absent := func(why error) (bool, error) {
		if required {
			return false, fmt.Errorf("hub: %s@%s: %s: %w", r.repo, r.commit, name, why)
		}
		return false, nil
	}
	if exists(noExist) {
		return absent(fmt.Errorf("%w (cached 404 in %s)", ErrEntryNotFound, noExist))
	}
	if m == nil {
		got, err := r.client.head(ctx, r.repo, r.commit, name)
		if errors.Is(err, ErrEntryNotFound) {
			// The marker only saves requests: failing to write it (a
			// read-only cache) is not an error, as in huggingface_hub.
			_ = touch(noExist)
			return absent(err)
		}
		if err != nil {
			return false, err
		}
		m = &got
	}
	if m.commit != r.commit {
		return false, fmt.Errorf("hub: %s: %s: %w: asked for commit %s, got %s", r.repo, name, ErrMalformed, r.commit, m.commit)
	}
	if err := r.fetch(ctx, name, *m); err != nil {
		return false, err
	}
	return true, nil
}

// fromCache serves the snapshot refs/<revision> (or the commit itself)
// names, if it holds every required file; why says why the hub was not
// asked.
func (r *resolver) fromCache(why error) (string, error) {
	notCached := func(detail string) (string, error) {
		return "", fmt.Errorf("hub: %s@%s: %w (%s): %s; and %w", r.repo, r.revision, ErrNotCached, r.repoDir, detail, why)
	}
	r.commit = r.revision
	if !isCommitHash(r.commit) {
		ref := filepath.Join(r.repoDir, "refs", filepath.FromSlash(r.revision))
		data, err := readSmall(ref, maxRefFile)
		if err != nil {
			return notCached("no cached revision " + r.revision)
		}
		r.commit = strings.TrimSpace(string(data))
		if !isCommitHash(r.commit) {
			return notCached(fmt.Sprintf("%s does not hold a commit hash", ref))
		}
	}
	var missing []string
	need := func(name string) {
		if !exists(r.snapshotFile(name)) {
			missing = append(missing, name)
		}
	}
	need(configFile)
	need(tokenizerFile)
	switch {
	case exists(r.snapshotFile(weightsFile)):
	case exists(r.snapshotFile(weightsIndexFile)):
		shards, err := readIndex(r.snapshotFile(weightsIndexFile))
		if err != nil {
			return "", fmt.Errorf("hub: %s@%s: %w", r.repo, r.commit, err)
		}
		for _, s := range shards {
			need(s)
		}
	default:
		missing = append(missing, weightsFile)
	}
	for _, name := range r.opts.ExtraFiles {
		need(name)
	}
	if len(missing) > 0 {
		return notCached(fmt.Sprintf("snapshot %s lacks %s", r.commit, strings.Join(missing, ", ")))
	}
	return r.snapshot(), nil
}

// writeRef records refs/<revision> = commit (no newline, as
// huggingface_hub writes and reads it), atomically.
func (r *resolver) writeRef() error {
	path := filepath.Join(r.repoDir, "refs", filepath.FromSlash(r.revision))
	if data, err := readSmall(path, maxRefFile); err == nil && string(data) == r.commit {
		return nil
	}
	fail := func(err error) error { return fmt.Errorf("hub: %s: ref %s: %w", r.repo, r.revision, err) }
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fail(err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".ref-*")
	if err != nil {
		return fail(err)
	}
	_, err = f.WriteString(r.commit)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fail(err)
	}
	return nil
}

// readIndex lists the distinct shard files of a model.safetensors.index.json
// in sorted order, each checked to be a safe relative *.safetensors path.
func readIndex(path string) ([]string, error) {
	data, err := readSmall(path, maxIndexFile)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", weightsIndexFile, err)
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(data, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", weightsIndexFile, ErrMalformed, err)
	}
	if len(idx.WeightMap) == 0 {
		return nil, fmt.Errorf("%s: %w: empty weight_map", weightsIndexFile, ErrMalformed)
	}
	// Sorted first, so that the shard order and any error are the same
	// whatever the map's iteration order.
	files := make([]string, 0, len(idx.WeightMap))
	for _, f := range idx.WeightMap {
		files = append(files, f)
	}
	slices.Sort(files)
	shards := slices.Compact(files)
	if len(shards) > maxShards {
		return nil, fmt.Errorf("%s: %w: %d shards, over %d", weightsIndexFile, ErrTooLarge, len(shards), maxShards)
	}
	for _, f := range shards {
		if err := checkFilename(f); err != nil {
			return nil, fmt.Errorf("%s: %w", weightsIndexFile, err)
		}
		if !strings.HasSuffix(f, ".safetensors") {
			return nil, fmt.Errorf("%s: shard %q: %w: not a .safetensors file", weightsIndexFile, f, ErrBadFilename)
		}
	}
	return shards, nil
}

// readSmall reads a whole file of at most max bytes.
func readSmall(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %s over %d bytes", ErrTooLarge, path, max)
	}
	return data, nil
}

// cacheDirTag marks the cache for backup tools (the Cache Directory Tagging
// Standard), as huggingface_hub does with the same file.
const cacheDirTag = "Signature: 8a477f597d28d172789f06886806bc55\n" +
	"# This file is a cache directory tag created by Loom (Hugging Face cache).\n" +
	"# For information about cache directory tags, see:\n" +
	"#\thttps://bford.info/cachedir/\n"

// tagCache writes <cache>/CACHEDIR.TAG unless present; failure is ignored,
// the tag being a courtesy.
func tagCache(dir string) {
	path := filepath.Join(dir, "CACHEDIR.TAG")
	if exists(path) {
		return
	}
	if os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(path, []byte(cacheDirTag), 0o644)
	}
}

// touch creates an empty file (and its folders) if it does not exist.
func touch(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
