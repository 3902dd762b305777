// Package dialogue is the Godot-free core of Loom's Godot classes: a loaded
// model shared by every NPC that talks through it (Model), one KV cache per
// NPC reused from turn to turn (Session), and generation jobs that run on
// their own goroutines and hand decoded text to the game's main thread
// (Job).
//
// Concurrency: any number of jobs may run at once (several NPCs talking
// together), but they take turns on one process-wide turn: only the job
// holding it runs a model, and it passes the turn on at the first token
// boundary after a 10 ms slice, in first-come order. So NPCs stream in
// parallel, interleaved frame by frame, and inference never uses more than
// one model's thread budget, whatever the number of NPCs and models; the
// game keeps the cores that budget leaves.
package dialogue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/loomai/loom/engine/audit"
	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/kernels"
)

// Errors returned by this package, usable with errors.Is.
var (
	// ErrNoModel reports a model folder that does not exist or holds no
	// config.json.
	ErrNoModel = errors.New("model folder not found")
	// ErrClosed reports use of a Model after Close.
	ErrClosed = errors.New("model closed")
	// ErrTokenID reports a token id outside the vocabulary.
	ErrTokenID = errors.New("token id out of range")
	// ErrPromptTooLong reports a prompt that leaves no room in the
	// context for a reply.
	ErrPromptTooLong = errors.New("prompt does not fit the context")
)

// Options tune a loaded model (see model.Options).
type Options struct {
	// Threads is the number of threads inference uses; <= 0 means one
	// less than the number of CPUs, at least 1.
	Threads int
	// Background runs every inference thread (and a Session's job
	// goroutines) in the OS's background class (kernels.BackgroundThread),
	// so that the game's threads always run first.
	Background bool
	// ContextLength is the longest conversation, in tokens, one NPC can
	// hold; <= 0 means min(max_position_embeddings, 4096).
	ContextLength int
	// Quantize converts the weights at load: "" keeps the file's dtype,
	// "q8" converts them to 8-bit blocks (model.QuantizeQ8).
	Quantize string
	// KVCache is the element type of every NPC's KV cache: "" or "f32"
	// for float32, "f16" (model.KVCacheF16) for binary16, which halves the
	// memory each conversation holds (see model.Options.KVCache).
	KVCache string
}

// Info describes a loaded model.
type Info struct {
	Arch    string // config.json architectures[0]
	Params  int64  // number of weights
	Vocab   int    // vocabulary size
	DType   string // weight dtype: F32, F16 or BF16
	Context int    // context length in tokens
}

// Model is a loaded model with its tokenizer and chat template, shared by
// every Session made from it. Its weights are read-only and never copied.
type Model struct {
	m        *model.Model
	tok      *tokenizer.Tokenizer
	eos      []int
	template string
	sha256   string // audit.ModelSHA256 of the files loaded
	bg       bool   // Options.Background
	quantize string // Options.Quantize, for the audits' input hash

	mu      sync.Mutex
	running int  // jobs started and not finished
	closing bool // Close was called; the last job closes m
}

// Load loads the model in an OS folder; weights are memory-mapped. It also
// hashes the model's files (audit.ModelSHA256) for the audits of its
// generations: one extra read of the weights at SHA-256 speed.
func Load(dir string, o Options) (*Model, error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: %s", ErrNoModel, dir)
	}
	fsys := os.DirFS(dir)
	if err := checkFolder(fsys, dir); err != nil {
		return nil, err
	}
	return load(fsys, func() (*model.Model, error) { return model.Load(dir, modelOptions(o)) }, dir, o)
}

// LoadFS loads the model at the root of fsys (a Godot res:// folder read
// through FileAccess, which is how a model inside an exported .pck is read);
// weights are read into memory. The model's files are hashed as in Load.
func LoadFS(fsys fs.FS, name string, o Options) (*Model, error) {
	if err := checkFolder(fsys, name); err != nil {
		return nil, err
	}
	return load(fsys, func() (*model.Model, error) { return model.LoadFS(fsys, modelOptions(o)) }, name, o)
}

func checkFolder(fsys fs.FS, name string) error {
	if _, err := fs.Stat(fsys, "config.json"); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s (no config.json there)", ErrNoModel, name)
		}
		return fmt.Errorf("model %s: %w", name, err)
	}
	return nil
}

func modelOptions(o Options) model.Options {
	return model.Options{Threads: o.Threads, Background: o.Background, ContextLength: o.ContextLength, Quantize: o.Quantize, KVCache: o.KVCache}
}

func load(fsys fs.FS, loadModel func() (*model.Model, error), name string, o Options) (*Model, error) {
	tok, err := tokenizer.LoadFS(fsys)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	eos := slices.Clone(tok.EOSTokenIDs())
	if data, err := fs.ReadFile(fsys, "generation_config.json"); err == nil {
		gen, err := config.ParseGeneration(data)
		if err != nil {
			return nil, fmt.Errorf("model %s: generation_config.json: %w", name, err)
		}
		eos = append(eos, gen.EOSTokenIDs...)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	m, err := loadModel()
	if err != nil {
		return nil, err
	}
	sum, err := audit.ModelSHA256(fsys)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	eos = append(eos, m.Config().EOSTokenIDs...)
	slices.Sort(eos)
	return &Model{m: m, tok: tok, eos: slices.Compact(eos), template: tok.ChatTemplate(), sha256: sum, bg: o.Background,
		quantize: o.Quantize}, nil
}

// Info describes the model.
func (m *Model) Info() Info {
	cfg := m.m.Config()
	arch := ""
	if len(cfg.Architectures) > 0 {
		arch = cfg.Architectures[0]
	}
	return Info{Arch: arch, Params: paramCount(m.m), Vocab: cfg.VocabSize, DType: m.m.Embed.DType.String(), Context: m.m.ContextLength()}
}

// paramCount counts the weights the model holds, the tied head once.
func paramCount(m *model.Model) int64 {
	mat := func(w *kernels.Mat) int64 { return int64(w.Rows) * int64(w.Cols) }
	n := mat(&m.Embed) + int64(len(m.Norm))
	if m.LMHead != &m.Embed {
		n += mat(m.LMHead)
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		a, f := &l.Attn, &l.MLP
		n += int64(len(l.AttnNorm) + len(l.MLPNorm) + len(a.QBias) + len(a.KBias) + len(a.VBias) + len(a.OBias))
		n += mat(&a.Q) + mat(&a.K) + mat(&a.V) + mat(&a.O) + mat(&f.Gate) + mat(&f.Up) + mat(&f.Down)
	}
	return n
}

// Tokenize encodes text without special tokens (no BOS), the way text is
// counted against the context.
func (m *Model) Tokenize(text string) []int { return m.tok.Encode(text, false) }

// Detokenize decodes ids, special tokens included.
func (m *Model) Detokenize(ids []int) (string, error) {
	vocab := max(m.tok.VocabSize(), m.m.Config().VocabSize)
	for i, id := range ids {
		if id < 0 || id >= vocab {
			return "", fmt.Errorf("%w: ids[%d] = %d, vocabulary has %d", ErrTokenID, i, id, vocab)
		}
	}
	return m.tok.Decode(ids, false), nil
}

// Close releases the model once no job runs on it any more: now if none
// does, else when the last one ends. It never blocks.
func (m *Model) Close() {
	m.mu.Lock()
	m.closing = true
	idle := m.running == 0
	m.mu.Unlock()
	if idle {
		m.m.Close()
	}
}

// acquire registers a job about to run; it fails after Close.
func (m *Model) acquire() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closing {
		return ErrClosed
	}
	m.running++
	return nil
}

// release ends a job and closes the model if Close is waiting for it.
func (m *Model) release() {
	m.mu.Lock()
	m.running--
	last := m.closing && m.running == 0
	m.mu.Unlock()
	if last {
		m.m.Close()
	}
}
