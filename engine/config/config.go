// Package config reads a Hugging Face model's config.json and
// generation_config.json into typed structs, applying the defaults the
// transformers config classes apply, and validates every value that later
// sizes an allocation so that a hostile config cannot make us allocate
// without bound.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"reflect"
)

// Upper bounds on the dimensions of a config. They are far above any model
// Loom targets and keep every buffer sized from a config modest.
const (
	MaxVocabSize          = 1 << 22
	MaxHiddenSize         = 1 << 16
	MaxIntermediateSize   = 1 << 18
	MaxLayers             = 1024
	MaxHeads              = 1024
	MaxHeadDim            = 1024
	MaxPositionEmbeddings = 1 << 24
	// MaxFileSize bounds config.json as Load reads it.
	MaxFileSize = 4 << 20
)

// Sentinel errors, usable with errors.Is on every error this package returns.
var (
	// ErrUnsupportedArch reports an architectures[0] outside the registry.
	ErrUnsupportedArch = errors.New("unsupported architecture")
	// ErrUnsupported reports a valid setting Loom does not implement, such
	// as a rope type or activation it lacks.
	ErrUnsupported = errors.New("unsupported configuration")
	// ErrInvalid reports a missing, malformed or out-of-bounds value.
	ErrInvalid = errors.New("invalid configuration")
)

// Config is a validated config.json. Defaults follow the transformers
// config class of the architecture, so a field HF would default is never
// zero here.
type Config struct {
	// Architectures is the "architectures" list; the first selects Arch.
	Architectures []string
	// ModelType is "model_type", e.g. "llama".
	ModelType string
	// VocabSize is the number of embedding rows and logits.
	VocabSize int
	// HiddenSize is the residual stream width.
	HiddenSize int
	// IntermediateSize is the MLP's inner width.
	IntermediateSize int
	// NumHiddenLayers is the number of decoder layers.
	NumHiddenLayers int
	// NumAttentionHeads is the number of query heads.
	NumAttentionHeads int
	// NumKeyValueHeads is the number of key/value heads (GQA); it divides
	// NumAttentionHeads. Defaults to NumAttentionHeads.
	NumKeyValueHeads int
	// HeadDim is "head_dim", or HiddenSize / NumAttentionHeads (floored, as
	// transformers does) when absent or null. Always even.
	HeadDim int
	// MaxPositionEmbeddings is the context length the model was trained for.
	MaxPositionEmbeddings int
	// RMSNormEps is the RMSNorm epsilon (default 1e-6).
	RMSNormEps float64
	// RopeTheta is the RoPE base (default 10000).
	RopeTheta float64
	// RopeScaling is nil for plain RoPE ("default"), else linear or llama3
	// scaling.
	RopeScaling *RopeScaling
	// TieWordEmbeddings means lm_head reuses the embedding matrix.
	TieWordEmbeddings bool
	// AttentionBias is Llama's "attention_bias": q, k, v and o projections
	// all carry a bias. Qwen2's q/k/v-only bias is Arch.QKVBias instead.
	AttentionBias bool
	// SlidingWindow is the attention window in tokens; 0 means none.
	SlidingWindow int
	// BOSTokenIDs and EOSTokenIDs hold "bos_token_id" (an int or null, as
	// transformers requires) and "eos_token_id" (an int, a list or null),
	// each id inside the vocabulary; nil for null.
	BOSTokenIDs, EOSTokenIDs []int
	// TorchDtype is "dtype" (transformers 5) or else "torch_dtype", e.g.
	// "bfloat16"; empty when neither is set.
	TorchDtype string
	// HiddenAct is the MLP activation; only "silu" is supported.
	HiddenAct string
	// Arch is the registry entry for Architectures[0].
	Arch *Arch `json:"-"`
}

// RopeScaling describes scaled RoPE frequencies.
type RopeScaling struct {
	// Type is "linear" or "llama3".
	Type string
	// Factor divides the frequencies (linear) or the low ones (llama3).
	Factor float64
	// LowFreqFactor and HighFreqFactor bound llama3's smoothing band.
	LowFreqFactor, HighFreqFactor float64
	// OriginalMaxPositionEmbeddings is llama3's pre-scaling context length
	// (defaults to MaxPositionEmbeddings, as in transformers).
	OriginalMaxPositionEmbeddings int
}

// rawConfig is config.json as written; pointers and raw messages tell an
// absent key from null or zero.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	VocabSize             *int            `json:"vocab_size"`
	HiddenSize            *int            `json:"hidden_size"`
	IntermediateSize      *int            `json:"intermediate_size"`
	NumHiddenLayers       *int            `json:"num_hidden_layers"`
	NumAttentionHeads     *int            `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	MaxPositionEmbeddings *int            `json:"max_position_embeddings"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	RopeParameters        json.RawMessage `json:"rope_parameters"`
	PartialRotaryFactor   *float64        `json:"partial_rotary_factor"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         *bool           `json:"attention_bias"`
	MLPBias               *bool           `json:"mlp_bias"`
	SlidingWindow         json.RawMessage `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	Dtype                 *string         `json:"dtype"`
	TorchDtype            *string         `json:"torch_dtype"`
	HiddenAct             *string         `json:"hidden_act"`
}

// Load reads and parses config.json at the root of fsys.
func Load(fsys fs.FS) (*Config, error) {
	data, err := readFile(fsys, "config.json")
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// readFile reads name from fsys, refusing files over MaxFileSize.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: reading %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config: %s is larger than %d bytes: %w", name, MaxFileSize, ErrInvalid)
	}
	return data, nil
}

// Parse parses and validates the contents of config.json.
func Parse(data []byte) (*Config, error) {
	var raw rawConfig
	if err := unmarshalExact(data, &raw); err != nil {
		return nil, fmt.Errorf("config: bad JSON: %v: %w", err, ErrInvalid)
	}
	if len(raw.Architectures) == 0 {
		return nil, invalid("architectures is missing or empty")
	}
	spec, err := lookupArch(raw.Architectures[0])
	if err != nil {
		return nil, err
	}
	arch := spec.Arch // a copy, so callers cannot change the registry
	c := &Config{Architectures: raw.Architectures, ModelType: raw.ModelType, Arch: &arch}
	if err := c.parseDims(&raw, spec); err != nil {
		return nil, err
	}
	if err := c.parseRope(&raw); err != nil {
		return nil, err
	}
	if err := c.parseArchSpecific(&raw, spec); err != nil {
		return nil, err
	}
	c.RMSNormEps = 1e-6
	if raw.RMSNormEps != nil {
		c.RMSNormEps = *raw.RMSNormEps
	}
	if !(c.RMSNormEps > 0 && c.RMSNormEps < 1) {
		return nil, invalid("rms_norm_eps %v is not in (0, 1)", c.RMSNormEps)
	}
	if raw.TieWordEmbeddings != nil {
		c.TieWordEmbeddings = *raw.TieWordEmbeddings
	}
	switch {
	case raw.Dtype != nil:
		c.TorchDtype = *raw.Dtype
	case raw.TorchDtype != nil:
		c.TorchDtype = *raw.TorchDtype
	}
	c.HiddenAct = "silu"
	if raw.HiddenAct != nil {
		c.HiddenAct = *raw.HiddenAct
	}
	if c.HiddenAct != "silu" {
		return nil, unsupported("hidden_act %q (only silu)", c.HiddenAct)
	}
	return c, nil
}

// parseDims fills and bounds the model dimensions. Unlike transformers, the
// core dimensions have no defaults: a config without them is no real
// checkpoint's, and a 7B-shaped default would only fail later.
func (c *Config) parseDims(raw *rawConfig, spec *archSpec) error {
	if raw.MaxPositionEmbeddings == nil {
		raw.MaxPositionEmbeddings = &spec.defaultMaxPositions
	}
	dims := []struct {
		name string
		src  *int
		max  int
		dst  *int
	}{
		{"vocab_size", raw.VocabSize, MaxVocabSize, &c.VocabSize},
		{"hidden_size", raw.HiddenSize, MaxHiddenSize, &c.HiddenSize},
		{"intermediate_size", raw.IntermediateSize, MaxIntermediateSize, &c.IntermediateSize},
		{"num_hidden_layers", raw.NumHiddenLayers, MaxLayers, &c.NumHiddenLayers},
		{"num_attention_heads", raw.NumAttentionHeads, MaxHeads, &c.NumAttentionHeads},
		{"max_position_embeddings", raw.MaxPositionEmbeddings, MaxPositionEmbeddings, &c.MaxPositionEmbeddings},
	}
	for _, d := range dims {
		if d.src == nil {
			return invalid("%s is missing", d.name)
		}
		if err := checkRange(d.name, *d.src, d.max); err != nil {
			return err
		}
		*d.dst = *d.src
	}
	c.NumKeyValueHeads = spec.defaultKVHeads
	if c.NumKeyValueHeads == 0 {
		c.NumKeyValueHeads = c.NumAttentionHeads
	}
	if raw.NumKeyValueHeads != nil {
		c.NumKeyValueHeads = *raw.NumKeyValueHeads
	}
	if err := checkRange("num_key_value_heads", c.NumKeyValueHeads, c.NumAttentionHeads); err != nil {
		return err
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return invalid("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	if raw.HeadDim != nil {
		c.HeadDim = *raw.HeadDim
	}
	if err := checkRange("head_dim", c.HeadDim, MaxHeadDim); err != nil {
		return err
	}
	if c.HeadDim%2 != 0 {
		return invalid("head_dim %d is odd; RoPE rotates pairs", c.HeadDim)
	}
	if c.NumAttentionHeads*c.HeadDim > MaxHiddenSize {
		return invalid("num_attention_heads*head_dim = %d exceeds %d", c.NumAttentionHeads*c.HeadDim, MaxHiddenSize)
	}
	return nil
}

// checkRange requires 1 <= v <= max.
func checkRange(name string, v, max int) error {
	if v < 1 || v > max {
		return invalid("%s = %d is outside [1, %d]", name, v, max)
	}
	return nil
}

// parseArchSpecific applies the fields whose presence or default depends on
// the architecture: biases, the sliding window and the special token ids.
func (c *Config) parseArchSpecific(raw *rawConfig, spec *archSpec) error {
	switch c.Arch.Name {
	case "LlamaForCausalLM":
		if raw.AttentionBias != nil {
			c.AttentionBias = *raw.AttentionBias
		}
		if raw.MLPBias != nil && *raw.MLPBias {
			return unsupported("mlp_bias true")
		}
	case "MistralForCausalLM":
		// MistralConfig defaults sliding_window to 4096; null disables it.
		c.SlidingWindow = 4096
		if len(raw.SlidingWindow) > 0 {
			w, err := optionalInt("sliding_window", raw.SlidingWindow)
			if err != nil {
				return err
			}
			c.SlidingWindow = w
		}
	case "Qwen2ForCausalLM":
		// Qwen2 applies its window only to layers >= max_window_layers, and
		// only with use_sliding_window; every released model turns it off.
		if raw.UseSlidingWindow != nil && *raw.UseSlidingWindow {
			return unsupported("use_sliding_window true (per-layer sliding windows)")
		}
	}
	if bytes.HasPrefix(raw.BOSTokenID, []byte("[")) {
		// transformers' config classes type bos_token_id as int | None and
		// refuse a list (generation_config.json does allow one).
		return invalid("bos_token_id %s is a list; config.json allows an integer or null", raw.BOSTokenID)
	}
	var err error
	if c.BOSTokenIDs, err = tokenIDs("bos_token_id", raw.BOSTokenID, spec.defaultBOS, c.VocabSize); err != nil {
		return err
	}
	if c.EOSTokenIDs, err = tokenIDs("eos_token_id", raw.EOSTokenID, spec.defaultEOS, c.VocabSize); err != nil {
		return err
	}
	return nil
}

// optionalInt parses a window-like value that is null (0, none) or a
// positive int bounded by MaxPositionEmbeddings.
func optionalInt(name string, msg json.RawMessage) (int, error) {
	var v *int
	if err := json.Unmarshal(msg, &v); err != nil {
		return 0, invalid("%s is neither null nor an integer", name)
	}
	if v == nil {
		return 0, nil
	}
	if err := checkRange(name, *v, MaxPositionEmbeddings); err != nil {
		return 0, err
	}
	return *v, nil
}

// tokenIDs parses a special token id field: absent gives def, null gives
// none, else an int or a list of ints, each in [0, vocab) (vocab <= 0 means
// only non-negative, for generation_config.json which has no vocabulary).
func tokenIDs(name string, msg json.RawMessage, def []int, vocab int) ([]int, error) {
	var ids []int
	switch {
	case len(msg) == 0:
		ids = def
	case string(msg) == "null":
		return nil, nil
	case bytes.HasPrefix(msg, []byte("[")):
		var list []*int
		if err := json.Unmarshal(msg, &list); err != nil {
			return nil, invalid("%s %s is not a list of integers", name, msg)
		}
		for _, id := range list {
			if id == nil {
				return nil, invalid("%s %s holds null", name, msg)
			}
			ids = append(ids, *id)
		}
	default:
		var one int
		if err := json.Unmarshal(msg, &one); err != nil {
			return nil, invalid("%s %s is neither an integer, a list nor null", name, msg)
		}
		ids = []int{one}
	}
	for _, id := range ids {
		if id < 0 || (vocab > 0 && id >= vocab) {
			return nil, invalid("%s %d is outside the vocabulary [0, %d)", name, id, vocab)
		}
	}
	return ids, nil
}

// unmarshalExact decodes a JSON object into the struct pointed to by v
// using only keys that equal a field's json tag exactly. encoding/json
// matches keys case-insensitively; Python, and so transformers, does not,
// and a "Vocab_Size" key must not stand in for "vocab_size".
func unmarshalExact(data []byte, v any) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	if fields == nil {
		return errors.New("document is null")
	}
	typ := reflect.TypeOf(v).Elem()
	exact := make(map[string]json.RawMessage, typ.NumField())
	for i := range typ.NumField() {
		tag := typ.Field(i).Tag.Get("json")
		if msg, ok := fields[tag]; ok {
			exact[tag] = msg
		}
	}
	filtered, err := json.Marshal(exact)
	if err != nil {
		return err
	}
	return json.Unmarshal(filtered, v)
}

// invalid returns an ErrInvalid error.
func invalid(format string, args ...any) error {
	return fmt.Errorf("config: "+format+": %w", append(args, ErrInvalid)...)
}

// unsupported returns an ErrUnsupported error.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("config: "+format+": %w", append(args, ErrUnsupported)...)
}

// finitePositive reports whether v is a finite number above zero.
func finitePositive(v float64) bool {
	return v > 0 && !math.IsInf(v, 0)
}
