package train

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
)

// Errors returned by this package, usable with errors.Is.
var (
	// ErrUnsupported reports a model this package cannot train: another
	// architecture, RoPE scaling, a parameter count over MaxParams.
	ErrUnsupported = errors.New("train: unsupported model")
	// ErrShape reports a checkpoint tensor of the wrong shape, a missing or
	// unexpected tensor, or a batch that does not fit the model.
	ErrShape = errors.New("train: shape mismatch")
	// ErrToken reports a token id outside the vocabulary or a target that
	// is neither a token id nor nn.IgnoreIndex.
	ErrToken = errors.New("train: bad token")
)

// MaxParams bounds the parameter count of a model this package builds
// (256M float32 values, 1 GiB; Adam's moments triple it).
const MaxParams = 1 << 28

// supportedArchs are the architectures Model trains, those engine/model runs.
var supportedArchs = []string{"LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"}

// Model is a Llama-family causal language model held in float32 for
// training. Each parameter is an nn.Param whose Name is its Hugging Face
// tensor name. A Model must not be used from several goroutines at once.
type Model struct {
	Embed  *nn.Param // model.embed_tokens.weight [vocab x hidden]
	Layers []Layer   // model.layers.N
	Norm   *nn.Param // model.norm.weight [hidden]
	// LMHead is lm_head.weight [vocab x hidden], nil when the config ties
	// it to Embed (the embedding then also receives the head's gradient).
	LMHead *nn.Param

	cfg     *config.Config
	d       dims
	invFreq []float32
	params  []*nn.Param
	ws      *workspace // activations of the latest forward pass
}

// Layer is one decoder layer's parameters, model.layers.N.
type Layer struct {
	AttnNorm            *nn.Param // input_layernorm.weight [hidden]
	Q, K, V, O          *nn.Param // self_attn.{q,k,v,o}_proj.weight
	QBias, KBias, VBias *nn.Param // self_attn.{q,k,v}_proj.bias, nil when absent
	OBias               *nn.Param // self_attn.o_proj.bias, nil when absent
	MLPNorm             *nn.Param // post_attention_layernorm.weight [hidden]
	Gate, Up, Down      *nn.Param // mlp.{gate,up,down}_proj.weight
}

// dims are the sizes the passes work with.
type dims struct {
	vocab, hidden, inter, layers int
	heads, kvHeads, headDim      int
	qDim, kvDim                  int
	eps                          float32
	window                       int
}

// Config returns the model's config. It must not be modified.
func (m *Model) Config() *config.Config { return m.cfg }

// Params returns every parameter in checkpoint order: the embedding, each
// layer's tensors, the final norm, then lm_head when untied.
func (m *Model) Params() []*nn.Param { return m.params }

// NumParams returns the number of trainable float32 values.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.params {
		n += p.Value.Len()
	}
	return n
}

// ZeroGrad clears every parameter's gradient.
func (m *Model) ZeroGrad() { nn.ZeroGrad(m.params) }

// Decays reports whether weight decay applies to p: to matrices
// (embeddings and projections), not to norm weights and biases, the usual
// rule for transformers.
func Decays(p *nn.Param) bool { return len(p.Value.Shape) == 2 }

// shapeOf derives the dims from a validated config and rejects what this
// package does not train.
func shapeOf(cfg *config.Config) (dims, error) {
	if cfg.Arch == nil || !slices.Contains(supportedArchs, cfg.Arch.Name) {
		return dims{}, fmt.Errorf("train: architectures %q: %w", cfg.Architectures, ErrUnsupported)
	}
	if cfg.RopeScaling != nil {
		return dims{}, fmt.Errorf("train: rope scaling %q: %w", cfg.RopeScaling.Type, ErrUnsupported)
	}
	return dims{
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
	}, nil
}

// biases says which attention biases the architecture has, as
// engine/model does: Qwen2 q/k/v, Llama with attention_bias all four.
func biases(cfg *config.Config) (qkv, o bool) {
	llama := cfg.Arch.Name == "LlamaForCausalLM" && cfg.AttentionBias
	return cfg.Arch.QKVBias || llama, llama
}

// tensorSpec is one parameter: its name, shape, and how a fresh model
// initialises it.
type tensorSpec struct {
	name  string
	shape []int
	init  initKind
	dst   **nn.Param
}

type initKind uint8

const (
	initNormal initKind = iota // N(0, std)
	initOnes                   // RMSNorm weights
	initZeros                  // biases
)

// specs lists the model's parameters in checkpoint order, each with the
// field it fills (m.Layers must be allocated).
func (m *Model) specs() []tensorSpec {
	d := m.d
	qkvBias, oBias := biases(m.cfg)
	s := []tensorSpec{{"model.embed_tokens.weight", []int{d.vocab, d.hidden}, initNormal, &m.Embed}}
	for i := range m.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		ly := &m.Layers[i]
		s = append(s,
			tensorSpec{p + "input_layernorm.weight", []int{d.hidden}, initOnes, &ly.AttnNorm},
			tensorSpec{p + "self_attn.q_proj.weight", []int{d.qDim, d.hidden}, initNormal, &ly.Q},
			tensorSpec{p + "self_attn.k_proj.weight", []int{d.kvDim, d.hidden}, initNormal, &ly.K},
			tensorSpec{p + "self_attn.v_proj.weight", []int{d.kvDim, d.hidden}, initNormal, &ly.V},
			tensorSpec{p + "self_attn.o_proj.weight", []int{d.hidden, d.qDim}, initNormal, &ly.O},
		)
		if qkvBias {
			s = append(s,
				tensorSpec{p + "self_attn.q_proj.bias", []int{d.qDim}, initZeros, &ly.QBias},
				tensorSpec{p + "self_attn.k_proj.bias", []int{d.kvDim}, initZeros, &ly.KBias},
				tensorSpec{p + "self_attn.v_proj.bias", []int{d.kvDim}, initZeros, &ly.VBias},
			)
		}
		if oBias {
			s = append(s, tensorSpec{p + "self_attn.o_proj.bias", []int{d.hidden}, initZeros, &ly.OBias})
		}
		s = append(s,
			tensorSpec{p + "post_attention_layernorm.weight", []int{d.hidden}, initOnes, &ly.MLPNorm},
			tensorSpec{p + "mlp.gate_proj.weight", []int{d.inter, d.hidden}, initNormal, &ly.Gate},
			tensorSpec{p + "mlp.up_proj.weight", []int{d.inter, d.hidden}, initNormal, &ly.Up},
			tensorSpec{p + "mlp.down_proj.weight", []int{d.hidden, d.inter}, initNormal, &ly.Down},
		)
	}
	s = append(s, tensorSpec{"model.norm.weight", []int{d.hidden}, initOnes, &m.Norm})
	if !m.cfg.TieWordEmbeddings {
		s = append(s, tensorSpec{"lm_head.weight", []int{d.vocab, d.hidden}, initNormal, &m.LMHead})
	}
	return s
}

// newModel checks cfg and allocates every parameter (zero), returning the
// specs in checkpoint order.
func newModel(cfg *config.Config) (*Model, []tensorSpec, error) {
	d, err := shapeOf(cfg)
	if err != nil {
		return nil, nil, err
	}
	m := &Model{cfg: cfg, d: d, invFreq: invFreqs(cfg.RopeTheta, d.headDim), Layers: make([]Layer, d.layers)}
	specs := m.specs()
	total := 0
	for _, s := range specs {
		n := 1
		for _, x := range s.shape {
			n *= x // each factor is bounded by config.Parse, the product fits an int
		}
		if n > MaxParams-total {
			return nil, nil, fmt.Errorf("train: more than %d parameters: %w", MaxParams, ErrUnsupported)
		}
		total += n
	}
	for _, s := range specs {
		v, err := nn.NewTensor(s.shape...)
		if err != nil {
			return nil, nil, fmt.Errorf("train: %s: %w", s.name, err)
		}
		g, err := nn.NewTensor(s.shape...)
		if err != nil {
			return nil, nil, fmt.Errorf("train: %s: %w", s.name, err)
		}
		p := &nn.Param{Name: s.name, Value: v, Grad: g}
		*s.dst = p
		m.params = append(m.params, p)
	}
	return m, specs, nil
}

// New returns a freshly initialised model for cfg: matrices and the
// embedding drawn from N(0, std²) (transformers' initializer_range, 0.02
// by default, is the usual std), RMSNorm weights 1, biases 0. The normal
// draws come from a seeded generator (see normalFill), parameter by
// parameter in checkpoint order, so a seed gives the same model everywhere.
func New(cfg *config.Config, std float64, seed uint64) (*Model, error) {
	if !(std >= 0) || math.IsInf(std, 0) {
		return nil, fmt.Errorf("train: init std %v: %w", std, ErrUnsupported)
	}
	m, specs, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	g := newGaussian(seed)
	for _, s := range specs {
		data := (*s.dst).Value.Data
		switch s.init {
		case initNormal:
			g.fill(data, float32(std))
		case initOnes:
			for i := range data {
				data[i] = 1
			}
		}
	}
	return m, nil
}

// tensorSource is where FromTensors reads: a safetensors.Set, or a map in
// tests.
type tensorSource interface {
	Tensor(name string) (*safetensors.Tensor, error)
	Names() []string
}

// FromTensors builds a model for cfg from checkpoint tensors (F32, F16 or
// BF16, converted exactly to float32). Every tensor the model needs must be
// present with its exact shape; a tensor it has no place for is an error
// (a stored lm_head.weight of a tied model is ignored, as transformers
// does, as are rotary inv_freq buffers).
func FromTensors(cfg *config.Config, src tensorSource) (*Model, error) {
	m, specs, err := newModel(cfg)
	if err != nil {
		return nil, err
	}
	used := make(map[string]bool, len(specs))
	for _, s := range specs {
		t, err := src.Tensor(s.name)
		if err != nil {
			return nil, fmt.Errorf("train: %w: %w", ErrShape, err)
		}
		if !slices.Equal(t.Shape, s.shape) {
			return nil, fmt.Errorf("train: tensor %q has shape %v, want %v: %w", s.name, t.Shape, s.shape, ErrShape)
		}
		v, err := t.Float32()
		if err != nil {
			return nil, fmt.Errorf("train: tensor %q: %w", s.name, err)
		}
		copy((*s.dst).Value.Data, v)
		used[s.name] = true
	}
	for _, name := range src.Names() {
		ignored := name == "lm_head.weight" && cfg.TieWordEmbeddings || strings.HasSuffix(name, "rotary_emb.inv_freq")
		if !used[name] && !ignored {
			return nil, fmt.Errorf("train: tensor %q has no place in the model: %w", name, ErrShape)
		}
	}
	return m, nil
}

// Load reads a Hugging Face model directory (config.json and
// model.safetensors or its shards) into float32 parameters for training.
func Load(dir string) (*Model, error) {
	cfg, err := config.Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", dir, err)
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", dir, err)
	}
	defer set.Close()
	m, err := FromTensors(cfg, set)
	if err != nil {
		return nil, fmt.Errorf("%w (model %s)", err, dir)
	}
	return m, nil
}

// Tensors returns the parameters as safetensors tensors in dtype (F32,
// BF16 or F16; 16-bit values are rounded to nearest even, as PyTorch's
// conversion does), named and shaped as the checkpoint expects. Write them
// with safetensors.WriteFile and metadata {"format": "pt"}.
func (m *Model) Tensors(dtype safetensors.DType) ([]safetensors.Tensor, error) {
	out := make([]safetensors.Tensor, 0, len(m.params))
	for _, p := range m.params {
		switch dtype {
		case safetensors.F32:
			out = append(out, safetensors.F32Tensor(p.Name, p.Value.Shape, p.Value.Data))
		case safetensors.BF16:
			out = append(out, safetensors.BF16Tensor(p.Name, p.Value.Shape, p.Value.Data))
		case safetensors.F16:
			out = append(out, safetensors.F16Tensor(p.Name, p.Value.Shape, p.Value.Data))
		default:
			return nil, fmt.Errorf("train: save as %s (want F32, BF16 or F16): %w", dtype, ErrUnsupported)
		}
	}
	return out, nil
}

// mat views a parameter [rows x cols] as a kernels matrix.
func mat(p *nn.Param) *kernels.Mat {
	return &kernels.Mat{Rows: p.Value.Shape[0], Cols: p.Value.Shape[1], DType: kernels.F32, F32: p.Value.Data}
}

// head returns the lm_head matrix parameter: LMHead, or Embed when tied.
func (m *Model) head() *nn.Param {
	if m.LMHead != nil {
		return m.LMHead
	}
	return m.Embed
}
