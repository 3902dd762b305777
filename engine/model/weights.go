package model

import (
	"fmt"
	"slices"
	"strings"

	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
)

// loadWeights fills the model's tensors from src, checking each one's
// shape against the config, and rejects tensors it has no place for.
func (m *Model) loadWeights(src tensorSource) error {
	d := m.d
	l := loader{src: src, used: make(map[string]bool)}
	qkvBias, oBias := m.biases()

	m.Embed = l.mat("model.embed_tokens.weight", d.vocab, d.hidden)
	m.Layers = make([]Layer, d.layers)
	for i := range m.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		ly := &m.Layers[i]
		ly.AttnNorm = l.vec(p+"input_layernorm.weight", d.hidden)
		ly.Attn.Q = l.mat(p+"self_attn.q_proj.weight", d.qDim, d.hidden)
		ly.Attn.K = l.mat(p+"self_attn.k_proj.weight", d.kvDim, d.hidden)
		ly.Attn.V = l.mat(p+"self_attn.v_proj.weight", d.kvDim, d.hidden)
		ly.Attn.O = l.mat(p+"self_attn.o_proj.weight", d.hidden, d.qDim)
		if qkvBias {
			ly.Attn.QBias = l.vec(p+"self_attn.q_proj.bias", d.qDim)
			ly.Attn.KBias = l.vec(p+"self_attn.k_proj.bias", d.kvDim)
			ly.Attn.VBias = l.vec(p+"self_attn.v_proj.bias", d.kvDim)
		}
		if oBias {
			ly.Attn.OBias = l.vec(p+"self_attn.o_proj.bias", d.hidden)
		}
		ly.MLPNorm = l.vec(p+"post_attention_layernorm.weight", d.hidden)
		ly.MLP.Gate = l.mat(p+"mlp.gate_proj.weight", d.inter, d.hidden)
		ly.MLP.Up = l.mat(p+"mlp.up_proj.weight", d.inter, d.hidden)
		ly.MLP.Down = l.mat(p+"mlp.down_proj.weight", d.hidden, d.inter)
	}
	m.Norm = l.vec("model.norm.weight", d.hidden)
	if m.cfg.TieWordEmbeddings {
		// transformers ties lm_head to the embedding and ignores a stored
		// copy, so a stored lm_head.weight is allowed and unused.
		m.LMHead = &m.Embed
		l.used["lm_head.weight"] = true
	} else {
		head := l.mat("lm_head.weight", d.vocab, d.hidden)
		m.LMHead = &head
	}
	if l.err != nil {
		return l.err
	}
	return l.checkUnused()
}

// biases says which attention biases the architecture has: Qwen2 always
// has q/k/v biases (config.Arch.QKVBias), Llama has q/k/v/o biases when
// attention_bias is set, Mistral has none.
func (m *Model) biases() (qkv, o bool) {
	llamaBias := m.cfg.Arch.Name == "LlamaForCausalLM" && m.cfg.AttentionBias
	return m.cfg.Arch.QKVBias || llamaBias, llamaBias
}

// loader reads tensors from a source and records which names it used. The
// first error sticks; later calls then do nothing, so loadWeights reads as
// a list of tensors.
type loader struct {
	src  tensorSource
	used map[string]bool
	err  error
}

// tensor fetches name and checks its shape.
func (l *loader) tensor(name string, shape ...int) *safetensors.Tensor {
	if l.err != nil {
		return nil
	}
	l.used[name] = true
	t, err := l.src.Tensor(name)
	if err != nil {
		l.err = err // the source's errors name the tensor
		return nil
	}
	if !slices.Equal(t.Shape, shape) {
		l.err = fmt.Errorf("tensor %q has shape %v, want %v: %w", name, t.Shape, shape, ErrShape)
		return nil
	}
	return t
}

// mat returns tensor name as a rows x cols kernels.Mat viewing the file's
// memory in the file's dtype.
func (l *loader) mat(name string, rows, cols int) kernels.Mat {
	t := l.tensor(name, rows, cols)
	if t == nil {
		return kernels.Mat{}
	}
	m := kernels.Mat{Rows: rows, Cols: cols}
	var err error
	switch t.DType {
	case safetensors.F32:
		m.DType = kernels.F32
		m.F32, err = t.F32()
	case safetensors.F16:
		m.DType = kernels.F16
		m.U16, err = t.U16()
	case safetensors.BF16:
		m.DType = kernels.BF16
		m.U16, err = t.U16()
	default:
		err = fmt.Errorf("dtype %s (want F32, F16 or BF16): %w", t.DType, ErrUnsupported)
	}
	if err == nil {
		err = m.Validate()
	}
	if err != nil {
		l.err = fmt.Errorf("tensor %q: %w", name, err)
		return kernels.Mat{}
	}
	return m
}

// vec returns tensor name, of n elements, converted to float32.
func (l *loader) vec(name string, n int) []float32 {
	t := l.tensor(name, n)
	if t == nil {
		return nil
	}
	v, err := t.Float32()
	if err != nil {
		l.err = fmt.Errorf("tensor %q: %w", name, err)
		return nil
	}
	return v
}

// checkUnused fails on the first (sorted) tensor of the source that was
// not read. RoPE inverse-frequency buffers that old checkpoints saved
// (…rotary_emb.inv_freq) are recomputed, so they are not reported.
func (l *loader) checkUnused() error {
	for _, name := range l.src.Names() {
		if !l.used[name] && !strings.HasSuffix(name, "rotary_emb.inv_freq") {
			return fmt.Errorf("tensor %q: %w", name, ErrUnexpectedTensor)
		}
	}
	return nil
}
