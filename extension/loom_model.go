package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/extension/dialogue"
	"github.com/loomai/loom/extension/gd"
)

// loomModel is the Go side of a LoomModel resource: a model folder and,
// once loaded, the dialogue.Model every LoomNPC using this resource shares.
// Resource loaders create and configure resources on their own threads, so
// the fields are guarded by mu.
type loomModel struct {
	owner gd.Object

	mu            sync.Mutex
	path          string
	threads       int // <= 0: leave the game one core
	contextLength int // <= 0: the model's own, capped at 4096
	model         *dialogue.Model
	loading       *loadJob
	events        []event
	freed         bool
}

// loadJob is a load in progress; done is closed when it ends.
type loadJob struct {
	done     chan struct{}
	finished bool
	model    *dialogue.Model
	err      error
}

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
				Param: gd.Param{Name: "threads", Type: gd.TypeInt, Hint: gd.HintRange, HintString: fmt.Sprintf("0,%d,1", runtime.NumCPU())},
				Get:   func(i gd.Instance) any { return self(i).get(func(l *loomModel) any { return int64(l.threads) }) },
				Set: func(i gd.Instance, v any) {
					self(i).set(func(l *loomModel) { l.threads = clampInt(v.(int64), 0, int64(runtime.NumCPU())) })
				},
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
	if lj := l.loading; lj != nil && lj.finished && lj.model != nil {
		lj.model.Close()
	}
	l.mu.Unlock()
	if m != nil {
		m.Close()
	}
}

// source is where a model_path points: an OS folder, or a res:// folder
// read through FileAccess (works inside an exported .pck).
type source struct {
	dir  string
	res  string
	opts dialogue.Options
}

// source resolves model_path; l.mu must be held.
func (l *loomModel) source() (source, int, error) {
	path, o := l.path, dialogue.Options{Threads: l.threads, ContextLength: l.contextLength}
	switch {
	case path == "":
		return source{}, errUnconfigured, errors.New("model_path is empty: set it to the model's folder")
	case strings.HasPrefix(path, "res://"):
		return source{res: path, opts: o}, errOK, nil
	case strings.HasPrefix(path, "user://"):
		dir, err := gd.GlobalizePath(path)
		if err != nil {
			return source{}, errFailed, err
		}
		return source{dir: dir, opts: o}, errOK, nil
	case filepath.IsAbs(path):
		return source{dir: path, opts: o}, errOK, nil
	}
	return source{}, errInvalidParameter, fmt.Errorf("model_path %q must start with res://, user:// or be an absolute path", path)
}

func (s source) load() (*dialogue.Model, error) {
	if s.res != "" {
		return dialogue.LoadFS(gd.FS(s.res), s.res, s.opts)
	}
	return dialogue.Load(s.dir, s.opts)
}

// errorCode maps a load error to Godot's Error.
func errorCode(err error) int {
	switch {
	case errors.Is(err, dialogue.ErrNoModel):
		return errFileNotFound
	case errors.Is(err, config.ErrUnsupportedArch):
		return errFileUnrecognized
	case errors.Is(err, safetensors.ErrMalformed), errors.Is(err, tokenizer.ErrMalformed):
		return errFileCorrupt
	}
	return errFailed
}

// load starts loading (or, blocking, loads) model_path. The result is
// announced with loaded or load_failed on the next frame. A load already in
// progress is not started twice; load_blocking waits for it.
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
		lj = &loadJob{done: make(chan struct{})}
		l.loading = lj
		l.mu.Unlock()
		if !blocking {
			go l.run(lj, src)
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
	m, err := src.load()
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
	events, freed := l.events, l.freed
	l.events = nil
	l.mu.Unlock()
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
