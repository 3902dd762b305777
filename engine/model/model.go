// Package model is the Llama-family transformer (LlamaForCausalLM,
// Qwen2ForCausalLM, MistralForCausalLM) and its KV cache.
//
// The structure reads like the checkpoint: Model{Embed, Layers, Norm,
// LMHead}, each Layer{AttnNorm, Attn, MLPNorm, MLP}, and every field is
// filled from the Hugging Face tensor of the same name
// (model.embed_tokens.weight, model.layers.N.self_attn.q_proj.weight, ...).
// Weights keep their file dtype (F32, F16 or BF16) as kernels.Mat views of
// the memory-mapped file; only norm weights and biases, which are small,
// are converted to float32. Activations, the KV cache (unless
// Options.KVCache asks for binary16) and logits are float32, computed with
// the deterministic kernels, so a model gives the same logits on every
// platform and thread count.
package model

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"sync"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
)

// Errors returned by this package, usable with errors.Is.
var (
	// ErrShape reports a tensor whose shape does not match the config.
	ErrShape = errors.New("tensor shape does not match config")
	// ErrUnexpectedTensor reports a checkpoint tensor this architecture
	// has no place for (such as an MLP bias), which would otherwise be
	// silently ignored and give wrong logits.
	ErrUnexpectedTensor = errors.New("unexpected tensor")
	// ErrUnsupported reports a config value or tensor dtype this package
	// does not implement (an unknown RoPE scaling type, an I8 weight, a
	// head count that does not divide, ...).
	ErrUnsupported = errors.New("unsupported")
	// ErrContextFull reports a Forward that would go past the cache's
	// length.
	ErrContextFull = errors.New("context length exceeded")
	// ErrToken reports an empty token list or an id outside
	// [0, vocab_size).
	ErrToken = errors.New("bad token")
	// ErrCache reports a nil cache or a cache made by another model.
	ErrCache = errors.New("invalid cache")
	// ErrClosed reports a Forward on a closed model.
	ErrClosed = errors.New("model is closed")
)

// DefaultContextLength caps the context length when Options leave it to
// the model: min(max_position_embeddings, DefaultContextLength). It keeps
// the KV cache of a long-context model to a size a game can afford.
const DefaultContextLength = 4096

// MaxThreads bounds Options.Threads (each thread is a goroutine of the
// model's pool).
const MaxThreads = 256

// supportedArchs are the architectures (config.json architectures[0]) this
// package computes: they share one forward pass and differ only in which
// biases exist and in Mistral's sliding window.
var supportedArchs = []string{"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"}

// Options tune a loaded model.
type Options struct {
	// Threads is the number of goroutines the model's kernels.Pool uses,
	// at most MaxThreads; <= 0 means runtime.NumCPU()-1, at least 1 (one
	// core is left to the game's main thread).
	Threads int
	// Background runs the pool's workers as kernels.BackgroundThread, for
	// a game that must never wait for inference (kernels.NewBackgroundPool);
	// the callers of Forward and Next should be background threads too.
	Background bool
	// ContextLength is the longest sequence (prompt plus generated tokens)
	// a cache may hold; <= 0 means min(max_position_embeddings,
	// DefaultContextLength). It may not exceed max_position_embeddings.
	ContextLength int
	// Quantize converts the weights at load: "" keeps the file's dtype,
	// QuantizeQ8 ("q8") converts the projection matrices and the LM head
	// to kernels.Q8 (about a quarter of float32's memory traffic, so
	// decode is faster; logits move by quantization error). See quantize.go.
	Quantize string
	// KVCache is the element type of the attention KV cache: "" or
	// KVCacheF32 ("f32") keeps keys and values in float32; KVCacheF16
	// ("f16") stores them as IEEE binary16 (kernels.F32ToF16, rounded to
	// nearest even), which halves the cache's memory. Attention converts
	// them back exactly (kernels.F16ToF32) and computes in float32 as
	// before, so only that one rounding of each key and value moves the
	// logits, and results stay bit-identical across platforms and thread
	// counts. A key or value beyond binary16's range (±65504) becomes
	// ±Inf, as in llama.cpp's f16 cache. See cache.go.
	KVCache string

	// mapped is set by Load: the weights are a read-only file mapping
	// whose pages quantization may hand back to the OS.
	mapped bool
}

// Model is a loaded Llama-family causal language model. Its weights are
// read-only after Load, so Forward may run concurrently on different
// Caches (the kernels.Pool takes the calls in turn). Fields mirror the
// checkpoint and must not be modified.
type Model struct {
	Embed  kernels.Mat  // model.embed_tokens.weight [vocab x hidden]
	Layers []Layer      // model.layers.N
	Norm   []float32    // model.norm.weight [hidden]
	LMHead *kernels.Mat // lm_head.weight [vocab x hidden], or &Embed when tied

	cfg     *config.Config
	d       dims
	invFreq []float32 // RoPE inverse frequencies [headDim/2]
	ctxLen  int
	kv      kernels.DType // the KV cache's element type: F32 or F16
	pool    *kernels.Pool
	closer  io.Closer // the tensor set whose memory the weights view; nil in tests that build in memory

	// mu is held shared by every Forward and exclusively by Close, so that
	// Close waits for running Forwards and the mapping is never read after
	// it is gone.
	mu     sync.RWMutex
	closed bool
}

// Layer is one decoder layer, model.layers.N.
type Layer struct {
	AttnNorm []float32 // input_layernorm.weight [hidden]
	Attn     Attention // self_attn
	MLPNorm  []float32 // post_attention_layernorm.weight [hidden]
	MLP      MLP       // mlp
}

// Attention is a layer's self_attn projections. Biases are nil when the
// architecture has none: Qwen2 has q/k/v biases, Llama with
// attention_bias has all four, Mistral none.
type Attention struct {
	Q, K, V, O          kernels.Mat // q_proj [heads*headDim x hidden], k_proj and v_proj [kvHeads*headDim x hidden], o_proj [hidden x heads*headDim]
	QBias, KBias, VBias []float32   // q_proj.bias, k_proj.bias, v_proj.bias
	OBias               []float32   // o_proj.bias
}

// MLP is a layer's SwiGLU feed-forward block: down(SiLU(gate(x)) * up(x)).
type MLP struct {
	Gate, Up, Down kernels.Mat // gate_proj and up_proj [intermediate x hidden], down_proj [hidden x intermediate]
}

// dims are the sizes the forward pass works with, derived from the config
// once at load.
type dims struct {
	vocab, hidden, inter, layers int
	heads, kvHeads, headDim      int
	qDim, kvDim                  int // heads*headDim, kvHeads*headDim
	eps                          float32
	window                       int // sliding window (0 = full causal attention)
}

// tensorSource is where build reads tensors from: a safetensors.Set, or an
// in-memory map in tests and benchmarks.
type tensorSource interface {
	Tensor(name string) (*safetensors.Tensor, error)
	Names() []string
}

// Load loads the model in dir: config.json and model.safetensors (or the
// shards of model.safetensors.index.json), memory-mapped. Close releases
// the mapping.
func Load(dir string, opts Options) (*Model, error) {
	opts.mapped = true
	m, err := load(os.DirFS(dir), func() (*safetensors.Set, error) { return safetensors.OpenDir(dir) }, opts)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	return m, nil
}

// LoadFS loads a model from the root of fsys (for example a Godot .pck)
// through safetensors.OpenFS.
func LoadFS(fsys fs.FS, opts Options) (*Model, error) {
	m, err := load(fsys, func() (*safetensors.Set, error) { return safetensors.OpenFS(fsys) }, opts)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	return m, nil
}

// load reads config.json from fsys and the tensors from the set open
// returns, then builds the model, which owns the set from then on.
func load(fsys fs.FS, open func() (*safetensors.Set, error), opts Options) (*Model, error) {
	cfg, err := config.Load(fsys)
	if err != nil {
		return nil, err
	}
	set, err := open()
	if err != nil {
		return nil, err
	}
	m, err := build(cfg, set, opts)
	if err != nil {
		set.Close()
		return nil, err
	}
	m.closer = set
	return m, nil
}

// Config returns the model's config. It must not be modified.
func (m *Model) Config() *config.Config { return m.cfg }

// ContextLength returns the longest sequence a cache of this model holds.
func (m *Model) ContextLength() int { return m.ctxLen }

// Close waits for running Forward calls, then stops the model's worker
// pool and unmaps its weights. Later Forward calls return ErrClosed; a
// second Close does nothing.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.pool.Close()
	if m.closer == nil {
		return nil
	}
	return m.closer.Close()
}

// build checks the config, reads and validates every tensor from src and
// starts the worker pool.
func build(cfg *config.Config, src tensorSource, opts Options) (*Model, error) {
	d, err := dimsOf(cfg)
	if err != nil {
		return nil, err
	}
	ctxLen, err := contextLength(cfg, opts.ContextLength)
	if err != nil {
		return nil, err
	}
	inv, err := invFreqs(cfg.RopeTheta, d.headDim, cfg.RopeScaling)
	if err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = max(runtime.NumCPU()-1, 1)
	}
	if threads > MaxThreads {
		return nil, fmt.Errorf("%d threads (at most %d): %w", threads, MaxThreads, ErrUnsupported)
	}
	if err := checkQuantize(opts.Quantize); err != nil {
		return nil, err
	}
	kv, err := kvDType(opts.KVCache)
	if err != nil {
		return nil, err
	}
	m := &Model{cfg: cfg, d: d, invFreq: inv, ctxLen: ctxLen, kv: kv}
	if err := m.loadWeights(src); err != nil {
		return nil, err
	}
	if err := m.quantize(opts.Quantize, opts.mapped); err != nil {
		return nil, err
	}
	if opts.Background {
		m.pool = kernels.NewBackgroundPool(threads)
	} else {
		m.pool = kernels.NewPool(threads)
	}
	return m, nil
}

// dimsOf takes the forward pass's sizes from the config, which
// config.Parse has bounded and checked (heads divide, even head_dim, silu).
// The architecture is checked here too: the config registry may know
// architectures this package does not compute.
func dimsOf(cfg *config.Config) (dims, error) {
	if cfg.Arch == nil || !slices.Contains(supportedArchs, cfg.Arch.Name) {
		return dims{}, fmt.Errorf("architectures %q: %w", cfg.Architectures, config.ErrUnsupportedArch)
	}
	d := dims{
		vocab:   cfg.VocabSize,
		hidden:  cfg.HiddenSize,
		inter:   cfg.IntermediateSize,
		layers:  cfg.NumHiddenLayers,
		heads:   cfg.NumAttentionHeads,
		kvHeads: cfg.NumKeyValueHeads,
		headDim: cfg.HeadDim,
		qDim:    cfg.NumAttentionHeads * cfg.HeadDim,
		kvDim:   cfg.NumKeyValueHeads * cfg.HeadDim,
		eps:     float32(cfg.RMSNormEps),
		window:  cfg.SlidingWindow,
	}
	return d, nil
}

// contextLength resolves Options.ContextLength against the config.
func contextLength(cfg *config.Config, requested int) (int, error) {
	maxPos := cfg.MaxPositionEmbeddings
	if requested <= 0 {
		return min(maxPos, DefaultContextLength), nil
	}
	if requested > maxPos {
		return 0, fmt.Errorf("context length %d exceeds max_position_embeddings %d: %w", requested, maxPos, ErrUnsupported)
	}
	return requested, nil
}
