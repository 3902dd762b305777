package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/extension/dialogue"
	"github.com/loomai/loom/extension/gd"
	"github.com/loomai/loom/hub"
	"github.com/loomai/loom/kernels"
)

// loomModel is the Go side of a LoomModel resource: a model folder (or a
// Hugging Face repo id) and, once loaded, the dialogue.Model every LoomNPC
// using this resource shares. Resource loaders create and configure
// resources on their own threads, so the fields are guarded by mu.
type loomModel struct {
	owner gd.Object

	mu            sync.Mutex
	path          string
	modelID       string // used when path is empty
	cacheDir      string // "": defaultCacheDir
	threads       int    // <= 0: leave the game one core
	normalThreads bool   // !background_threads
	quantize      string // "" or "none": the file's dtype; "q8"
	kvCache       string // "" or "f32": float32; "f16"
	contextLength int    // <= 0: the model's own, capped at 4096
	model         *dialogue.Model
	loading       *loadJob
	events        []event
	progress      *[2]int64 // download_progress not yet emitted
	progressWoke  time.Time // when a progress report last woke the frame
	freed         bool
}

// loadJob is a load in progress; done is closed when it ends.
type loadJob struct {
	ctx      context.Context
	done     chan struct{}
	cancel   context.CancelFunc // stops a download when the resource is freed
	finished bool
	model    *dialogue.Model
	err      error
}

// defaultCacheDir is where model_id downloads go unless cache_dir says
// otherwise: the game's own user folder, in the Hugging Face cache layout.
const defaultCacheDir = "user://huggingface/hub"

// progressEvery throttles download_progress: a report wakes the frame
// callback at most this often, besides the end of every file.
const progressEvery = 100 * time.Millisecond

func newLoomModel(owner gd.Object) gd.Instance { return &loomModel{owner: owner} }

func modelClass() *gd.Class {
	self := func(i gd.Instance) *loomModel { return i.(*loomModel) }
	errReturn := &gd.Param{Type: gd.TypeInt, Class: "Error"}
	return &gd.Class{
		Name: "LoomModel", Parent: "Resource", New: newLoomModel,
		Properties: []gd.Property{
			{
				Param: gd.Param{Name: "model_path", Type: gd.TypeString, Hint: gd.HintDir},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return l.path }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.path = v.(string) }) },
			},
			{
				Param: gd.Param{Name: "model_id", Type: gd.TypeString, Hint: gd.HintPlaceholderText, HintString: "org/name or org/name@revision"},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return l.modelID }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.modelID = v.(string) }) },
			},
			{
				Param: gd.Param{Name: "cache_dir", Type: gd.TypeString, Hint: gd.HintPlaceholderText, HintString: defaultCacheDir},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return l.cacheDir }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.cacheDir = v.(string) }) },
			},
			{
				Param: gd.Param{Name: "threads", Type: gd.TypeInt, Hint: gd.HintRange, HintString: fmt.Sprintf("0,%d,1", runtime.NumCPU())},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return int64(l.threads) }) },
				Set: func(i gd.Instance, v any) {
					self(i).set(func(l *loomModel) { l.threads = clampInt(v.(int64), 0, int64(runtime.NumCPU())) })
				},
			},
			{
				Param: gd.Param{Name: "background_threads", Type: gd.TypeBool},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return !l.normalThreads }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.normalThreads = !v.(bool) }) },
			},
			{
				Param: gd.Param{Name: "quantize", Type: gd.TypeString, Hint: gd.HintEnum, HintString: "none,q8"},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return l.quantizeName() }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.quantize = v.(string) }) },
			},
			{
				Param: gd.Param{Name: "kv_cache", Type: gd.TypeString, Hint: gd.HintEnum, HintString: "f32,f16"},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return l.kvCacheName() }) },
				Set:   func(i gd.Instance, v any) { self(i).set(func(l *loomModel) { l.kvCache = v.(string) }) },
			},
			{
				Param: gd.Param{Name: "context_length", Type: gd.TypeInt, Hint: gd.HintRange, HintString: "0,131072,1,or_greater"},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return int64(l.contextLength) }) },
				Set: func(i gd.Instance, v any) {
					self(i).set(func(l *loomModel) { l.contextLength = clampInt(v.(int64), 0, 1<<24) })
				},
			},
		},
		Methods: []gd.Method{
			{Name: "load", Return: errReturn, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).load(false) }},
			{Name: "load_blocking", Return: errReturn, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).load(true) }},
			{Name: "is_loaded", Return: &gd.Param{Type: gd.TypeBool}, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).current() != nil }},
			{Name: "get_info", Return: &gd.Param{Type: gd.TypeDictionary}, Fn: func(i gd.Instance, _ gd.Args) any { return self(i).info() }},
			{
				Name: "tokenize", Args: []gd.Param{{Name: "text", Type: gd.TypeString}}, Return: &gd.Param{Type: gd.TypePackedInt32Array},
				Fn: func(i gd.Instance, a gd.Args) any { return self(i).tokenize(a.String(0)) },
			},
			{
				Name: "detokenize", Args: []gd.Param{{Name: "ids", Type: gd.TypePackedInt32Array}}, Return: &gd.Param{Type: gd.TypeString},
				Fn: func(i gd.Instance, a gd.Args) any { return self(i).detokenize(a.Int32s(0)) },
			},
			{Name: "get_runtime_stats", Static: true, Return: &gd.Param{Type: gd.TypeDictionary}, Fn: func(gd.Instance, gd.Args) any { return runtimeStats() }},
		},
		Signals: []gd.Signal{
			{Name: "loaded"},
			{Name: "load_failed", Args: []gd.Param{{Name: "message", Type: gd.TypeString}}},
			{Name: "download_progress", Args: []gd.Param{{Name: "downloaded_bytes", Type: gd.TypeInt}, {Name: "total_bytes", Type: gd.TypeInt}}},
		},
	}
}

func (l *loomModel) get(f func(*loomModel) any) any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return f(l)
}

func (l *loomModel) set(f func(*loomModel)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(l)
}

// quantizeName is the quantize property's value: "none" when unset.
func (l *loomModel) quantizeName() string {
	if l.quantize == "" {
		return "none"
	}
	return l.quantize
}

// kvCacheName is the kv_cache property's value: "f32" when unset.
func (l *loomModel) kvCacheName() string {
	if l.kvCache == "" {
		return model.KVCacheF32
	}
	return l.kvCache
}

func clampInt(v, lo, hi int64) int {
	return int(max(lo, min(v, hi)))
}

// current returns the loaded model, or nil.
func (l *loomModel) current() *dialogue.Model {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.model
}

// Free runs when the resource's last reference goes. NPCs hold references,
// so no NPC uses the model any more, but a cancelled generation may still
// be winding down: dialogue.Model.Close waits for it.
func (l *loomModel) Free() {
	l.mu.Lock()
	l.freed = true
	m := l.model
	l.model = nil
	if lj := l.loading; lj != nil {
		lj.cancel()
		if lj.finished && lj.model != nil {
			lj.model.Close()
		}
	}
	l.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// source is where a model comes from: an OS folder, a res:// folder read
// through FileAccess (works inside an exported .pck), or a Hugging Face
// repo id resolved through the cache in hub.CacheDir.
type source struct {
	dir  string
	res  string
	repo string
	hub  hub.Options
	opts dialogue.Options
}

// source resolves model_path, else model_id; l.mu must be held.
func (l *loomModel) source() (source, int, error) {
	path := l.path
	o := dialogue.Options{Threads: l.threads, Background: !l.normalThreads, ContextLength: l.contextLength}
	switch l.quantize {
	case "", "none":
	case model.QuantizeQ8:
		o.Quantize = l.quantize
	default:
		return source{}, errInvalidParameter, fmt.Errorf("quantize %q must be \"none\" or %q", l.quantize, model.QuantizeQ8)
	}
	switch l.kvCache {
	case "", model.KVCacheF32:
	case model.KVCacheF16:
		o.KVCache = l.kvCache
	default:
		return source{}, errInvalidParameter, fmt.Errorf("kv_cache %q must be %q or %q", l.kvCache, model.KVCacheF32, model.KVCacheF16)
	}
	switch {
	case path == "" && l.modelID != "":
		return l.hubSource(o)
	case path == "":
		return source{}, errUnconfigured, errors.New("model_path and model_id are empty: set model_path to the model's folder or model_id to a Hugging Face repo id")
	case strings.HasPrefix(path, "res://"):
		return source{res: path, opts: o}, errOK, nil
	case strings.HasPrefix(path, "user://"), filepath.IsAbs(path):
		dir, err := osPath("model_path", path)
		if err != nil {
			return source{}, errFailed, err
		}
		return source{dir: dir, opts: o}, errOK, nil
	}
	return source{}, errInvalidParameter, fmt.Errorf("model_path %q must start with res://, user:// or be an absolute path", path)
}

// hubSource resolves model_id and cache_dir, with the endpoint, token and
// offline mode from the environment (hub.FromEnv); l.mu must be held.
func (l *loomModel) hubSource(o dialogue.Options) (source, int, error) {
	if _, _, err := hub.ParseRepoID(l.modelID); err != nil {
		return source{}, errInvalidParameter, fmt.Errorf("model_id: %w", err)
	}
	cache := l.cacheDir
	if cache == "" {
		cache = defaultCacheDir
	}
	dir, err := osPath("cache_dir", cache)
	if err != nil {
		return source{}, errInvalidParameter, err
	}
	opts, err := hub.FromEnv()
	if err != nil {
		return source{}, errFailed, err
	}
	opts.CacheDir = dir
	return source{repo: l.modelID, hub: opts, opts: o}, errOK, nil
}

// osPath turns a user:// or absolute path into an OS path; what names the
// property in errors.
func osPath(what, path string) (string, error) {
	switch {
	case strings.HasPrefix(path, "user://"):
		return gd.GlobalizePath(path)
	case filepath.IsAbs(path):
		return path, nil
	}
	return "", fmt.Errorf("%s %q must start with user:// or be an absolute path", what, path)
}

// load loads the model, downloading a repo's missing files first;
// progress gets the bytes downloaded and announced so far, over all files.
func (s source) load(ctx context.Context, progress func(downloaded, total int64)) (*dialogue.Model, error) {
	switch {
	case s.res != "":
		return dialogue.LoadFS(gd.FS(s.res), s.res, s.opts)
	case s.repo != "":
		files := map[string][2]int64{} // file -> downloaded, total
		opts := s.hub
		opts.Progress = func(file string, downloaded, total int64) {
			files[file] = [2]int64{downloaded, total}
			var sum [2]int64
			for _, f := range files {
				sum[0] += f[0]
				sum[1] += f[1]
			}
			progress(sum[0], sum[1])
		}
		dir, err := hub.Resolve(ctx, s.repo, opts)
		if err != nil {
			return nil, err
		}
		return dialogue.Load(dir, s.opts)
	}
	return dialogue.Load(s.dir, s.opts)
}

// errorCode maps a load error to Godot's Error.
func errorCode(err error) int {
	switch {
	case errors.Is(err, dialogue.ErrNoModel), errors.Is(err, hub.ErrNotCached), errors.Is(err, hub.ErrRepoNotFound),
		errors.Is(err, hub.ErrRevisionNotFound), errors.Is(err, hub.ErrEntryNotFound):
		return errFileNotFound
	case errors.Is(err, hub.ErrUnauthorized):
		return errUnauthorized
	case errors.Is(err, hub.ErrChecksum):
		return errFileCorrupt
	case errors.Is(err, config.ErrUnsupportedArch):
		return errFileUnrecognized
	case errors.Is(err, safetensors.ErrMalformed), errors.Is(err, tokenizer.ErrMalformed):
		return errFileCorrupt
	}
	return errFailed
}

// load starts loading (or, blocking, loads) model_path or model_id. The
// result is announced with loaded or load_failed on the next frame. A load
// already in progress is not started twice; load_blocking waits for it.
func (l *loomModel) load(blocking bool) int {
	l.mu.Lock()
	lj := l.loading
	var src source
	if lj == nil {
		var code int
		var err error
		if src, code, err = l.source(); err != nil {
			l.mu.Unlock()
			l.failed(err)
			return code
		}
		ctx, cancel := context.WithCancel(context.Background())
		lj = &loadJob{ctx: ctx, done: make(chan struct{}), cancel: cancel}
		l.loading = lj
		l.mu.Unlock()
		if !blocking {
			go func() {
				if src.opts.Background {
					// Reading, converting and hashing the weights takes
					// seconds of CPU for a large model. The goroutine ends
					// locked, and its thread with it.
					_ = kernels.BackgroundThread() // without the OS's support it runs at normal priority
				}
				l.run(lj, src)
			}()
			return errOK
		}
		l.run(lj, src)
	} else {
		l.mu.Unlock()
	}
	if !blocking {
		return errOK
	}
	<-lj.done
	l.apply()
	if lj.err != nil {
		return errorCode(lj.err)
	}
	return errOK
}

// run loads on the calling goroutine and hands the result to the next
// frame.
func (l *loomModel) run(lj *loadJob, src source) {
	m, err := src.load(lj.ctx, l.downloaded)
	lj.cancel() // release the context
	l.mu.Lock()
	lj.model, lj.err, lj.finished = m, err, true
	freed := l.freed
	l.mu.Unlock()
	close(lj.done)
	if freed {
		if m != nil {
			m.Close()
		}
		return
	}
	wake(l)
}

// downloaded records download progress for the next frame, waking it at
// most every progressEvery, and whenever the bytes announced so far are all
// there (the end of each file), so the last report is always emitted.
func (l *loomModel) downloaded(done, total int64) {
	l.mu.Lock()
	l.progress = &[2]int64{done, total}
	now := time.Now()
	due := done == total || now.Sub(l.progressWoke) >= progressEvery
	if due {
		l.progressWoke = now
	}
	l.mu.Unlock()
	if due {
		wake(l)
	}
}

// apply installs a finished load and queues its signal.
func (l *loomModel) apply() {
	l.mu.Lock()
	lj := l.loading
	if lj == nil || !lj.finished {
		l.mu.Unlock()
		return
	}
	l.loading = nil
	var old *dialogue.Model
	if lj.err != nil {
		l.events = append(l.events, event{"load_failed", []any{lj.err.Error()}})
	} else {
		old, l.model = l.model, lj.model
		l.events = append(l.events, event{signal: "loaded"})
	}
	l.mu.Unlock()
	if old != nil {
		old.Close()
	}
	wake(l)
}

// failed reports an error through load_failed on the next frame.
func (l *loomModel) failed(err error) {
	gd.PrintError("LoomModel.load", err.Error())
	l.mu.Lock()
	l.events = append(l.events, event{"load_failed", []any{err.Error()}})
	l.mu.Unlock()
	wake(l)
}

func (l *loomModel) tick() bool {
	l.apply()
	l.mu.Lock()
	events, progress, freed := l.events, l.progress, l.freed
	l.events, l.progress = nil, nil
	l.mu.Unlock()
	if progress != nil {
		// Progress comes before loaded or load_failed, which apply queued
		// only after the download ended.
		events = append([]event{{"download_progress", []any{progress[0], progress[1]}}}, events...)
	}
	if freed || len(events) == 0 {
		return false
	}
	// Hold a reference while handlers run: one of them may drop the last
	// other reference to this resource.
	ref, err := gd.NewVariant(l.owner)
	if err != nil {
		gd.PrintError("LoomModel", err.Error())
		return false
	}
	defer ref.Destroy()
	for _, e := range events {
		emit(l.owner, e)
	}
	return false
}

func (l *loomModel) info() map[string]any {
	m := l.current()
	if m == nil {
		return map[string]any{}
	}
	i := m.Info()
	return map[string]any{"arch": i.Arch, "params": i.Params, "vocab": i.Vocab, "dtype": i.DType, "context": i.Context}
}

func (l *loomModel) tokenize(text string) []int {
	m := l.current()
	if m == nil {
		gd.PrintError("LoomModel.tokenize", "the model is not loaded")
		return nil
	}
	return m.Tokenize(text)
}

func (l *loomModel) detokenize(ids []int32) string {
	m := l.current()
	if m == nil {
		gd.PrintError("LoomModel.detokenize", "the model is not loaded")
		return ""
	}
	all := make([]int, len(ids))
	for i, id := range ids {
		all[i] = int(id)
	}
	text, err := m.Detokenize(all)
	if err != nil {
		gd.PrintError("LoomModel.detokenize", err.Error())
		return ""
	}
	return text
}

// runtimeStats reports the Go runtime's memory after a collection, for
// leak checks in tests and profiling; the collection makes it slow.
func runtimeStats() map[string]any {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return map[string]any{
		"heap_alloc":   int64(ms.HeapAlloc),
		"heap_objects": int64(ms.HeapObjects),
		"goroutines":   runtime.NumGoroutine(),
		"gomaxprocs":   runtime.GOMAXPROCS(0),
		"num_gc":       int64(ms.NumGC),
	}
}
