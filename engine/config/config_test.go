package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, where testdata/models lives.
const repoRoot = "../.."

// goldenConfig is one entry of testdata/golden.json (written by
// testdata/reference.py from transformers): the fields of Config plus which
// attention projections the instantiated HF model gives a bias.
type goldenConfig struct {
	Config
	ModelQKVBias bool `json:"model_qkv_bias"`
	ModelOBias   bool `json:"model_o_bias"`
}

type golden struct {
	Configs    map[string]goldenConfig `json:"configs"`
	Generation map[string]struct {
		Generation
	} `json:"generation"`
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	data, err := os.ReadFile("testdata/golden.json")
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.Configs)
	require.NotEmpty(t, g.Generation)
	return g
}

// goldenPath maps a golden key (relative to the repository root) to a path
// usable from this package's directory.
func goldenPath(key string) string {
	return filepath.Join(repoRoot, filepath.FromSlash(key))
}

// TestGoldenCoversEveryConfig makes a stale golden.json fail: every config
// on disk must have been run through the reference.
func TestGoldenCoversEveryConfig(t *testing.T) {
	g := loadGolden(t)
	for _, pattern := range []string{"testdata/models/*/config.json", "engine/config/testdata/configs/*.json"} {
		paths, err := filepath.Glob(goldenPath(pattern))
		require.NoError(t, err)
		require.NotEmpty(t, paths, pattern)
		for _, p := range paths {
			rel, err := filepath.Rel(repoRoot, p)
			require.NoError(t, err)
			assert.Contains(t, g.Configs, filepath.ToSlash(rel), "rerun ci/reference/run.sh engine/config/testdata/reference.py")
		}
	}
}

func TestParseMatchesTransformers(t *testing.T) {
	for key, want := range loadGolden(t).Configs {
		t.Run(key, func(t *testing.T) {
			data, err := os.ReadFile(goldenPath(key))
			require.NoError(t, err)
			got, err := Parse(data)
			require.NoError(t, err)
			require.NotNil(t, got.Arch)
			assert.Equal(t, want.Architectures[0], got.Arch.Name)
			assert.Equal(t, want.ModelQKVBias, got.Arch.QKVBias || got.AttentionBias, "q/k/v bias")
			assert.Equal(t, want.ModelOBias, got.AttentionBias, "o_proj bias")
			// The remaining fields must equal transformers' values exactly.
			gotFields := *got
			gotFields.Arch = nil // json:"-", not in the golden
			assert.Equal(t, want.Config, gotFields)
		})
	}
}

func TestLoad(t *testing.T) {
	dir := goldenPath("testdata/models/qwen2")
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	want, err := Parse(data)
	require.NoError(t, err)
	got, err := Load(os.DirFS(dir))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	_, err = Load(fstest.MapFS{})
	assert.ErrorIs(t, err, fs.ErrNotExist)

	huge := fstest.MapFS{"config.json": {Data: make([]byte, MaxFileSize+1)}}
	_, err = Load(huge)
	assert.ErrorIs(t, err, ErrInvalid)
	assert.ErrorContains(t, err, "larger than")
}

// baseConfig is a small valid Llama config that the hostile cases mutate.
func baseConfig() map[string]any {
	return map[string]any{
		"architectures":           []any{"LlamaForCausalLM"},
		"model_type":              "llama",
		"vocab_size":              256,
		"hidden_size":             64,
		"intermediate_size":       128,
		"num_hidden_layers":       2,
		"num_attention_heads":     4,
		"num_key_value_heads":     2,
		"max_position_embeddings": 2048,
	}
}

// remove marks a key for deletion in a hostile case's changes.
var remove = &struct{}{}

func TestHostileConfigs(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		raw     string // used instead of baseConfig+changes when set
		err     error
		msg     string
	}{
		{name: "bad JSON", raw: `{"architectures": [`, err: ErrInvalid, msg: "bad JSON"},
		{name: "not an object", raw: `[1, 2]`, err: ErrInvalid, msg: "bad JSON"},
		{name: "null document", raw: `null`, err: ErrInvalid, msg: "document is null"},
		{name: "keys match exactly", raw: `{"Architectures": ["LlamaForCausalLM"]}`, err: ErrInvalid, msg: "architectures is missing"},
		{name: "wrong-case dimension ignored", changes: map[string]any{"vocab_size": remove, "Vocab_Size": 256}, err: ErrInvalid, msg: "vocab_size is missing"},
		{name: "default eos outside vocab", changes: map[string]any{"vocab_size": 2}, err: ErrInvalid, msg: "eos_token_id 2 is outside"},
		{name: "no architectures", changes: map[string]any{"architectures": remove}, err: ErrInvalid, msg: "architectures"},
		{name: "empty architectures", changes: map[string]any{"architectures": []any{}}, err: ErrInvalid, msg: "architectures"},
		{name: "unknown architecture", changes: map[string]any{"architectures": []any{"GPT2LMHeadModel"}}, err: ErrUnsupportedArch,
			msg: `"GPT2LMHeadModel" (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)`},
		{name: "missing vocab", changes: map[string]any{"vocab_size": remove}, err: ErrInvalid, msg: "vocab_size is missing"},
		{name: "huge vocab", changes: map[string]any{"vocab_size": MaxVocabSize + 1}, err: ErrInvalid, msg: "vocab_size"},
		{name: "vocab overflows int", changes: map[string]any{"vocab_size": json.Number("99999999999999999999999")}, err: ErrInvalid, msg: "bad JSON"},
		{name: "fractional hidden", changes: map[string]any{"hidden_size": 64.5}, err: ErrInvalid, msg: "bad JSON"},
		{name: "zero hidden", changes: map[string]any{"hidden_size": 0}, err: ErrInvalid, msg: "hidden_size"},
		{name: "huge hidden", changes: map[string]any{"hidden_size": MaxHiddenSize + 1}, err: ErrInvalid, msg: "hidden_size"},
		{name: "negative intermediate", changes: map[string]any{"intermediate_size": -1}, err: ErrInvalid, msg: "intermediate_size"},
		{name: "huge intermediate", changes: map[string]any{"intermediate_size": MaxIntermediateSize + 1}, err: ErrInvalid, msg: "intermediate_size"},
		{name: "too many layers", changes: map[string]any{"num_hidden_layers": MaxLayers + 1}, err: ErrInvalid, msg: "num_hidden_layers"},
		{name: "zero heads", changes: map[string]any{"num_attention_heads": 0}, err: ErrInvalid, msg: "num_attention_heads"},
		{name: "too many heads", changes: map[string]any{"num_attention_heads": MaxHeads + 1}, err: ErrInvalid, msg: "num_attention_heads"},
		{name: "kv heads above heads", changes: map[string]any{"num_key_value_heads": 8}, err: ErrInvalid, msg: "num_key_value_heads"},
		{name: "kv heads zero", changes: map[string]any{"num_key_value_heads": 0}, err: ErrInvalid, msg: "num_key_value_heads"},
		{name: "heads not divisible", changes: map[string]any{"num_key_value_heads": 3}, err: ErrInvalid, msg: "not a multiple"},
		{name: "odd head_dim", changes: map[string]any{"head_dim": 15}, err: ErrInvalid, msg: "odd"},
		{name: "huge head_dim", changes: map[string]any{"head_dim": MaxHeadDim + 2}, err: ErrInvalid, msg: "head_dim"},
		{name: "zero derived head_dim", changes: map[string]any{"hidden_size": 2}, err: ErrInvalid, msg: "head_dim"},
		{name: "q width too large", changes: map[string]any{"num_attention_heads": 128, "num_key_value_heads": 1, "head_dim": 1024}, err: ErrInvalid, msg: "num_attention_heads*head_dim"},
		{name: "huge max positions", changes: map[string]any{"max_position_embeddings": MaxPositionEmbeddings + 1}, err: ErrInvalid, msg: "max_position_embeddings"},
		{name: "zero eps", changes: map[string]any{"rms_norm_eps": 0}, err: ErrInvalid, msg: "rms_norm_eps"},
		{name: "negative theta", changes: map[string]any{"rope_theta": -1}, err: ErrInvalid, msg: "rope_theta"},
		{name: "unknown rope type", changes: map[string]any{"rope_scaling": map[string]any{"rope_type": "yarn", "factor": 4}}, err: ErrUnsupported, msg: `rope type "yarn" (supported: default, linear, llama3)`},
		{name: "unknown legacy rope type", changes: map[string]any{"rope_scaling": map[string]any{"type": "dynamic", "factor": 2}}, err: ErrUnsupported, msg: `"dynamic"`},
		{name: "unknown rope_parameters type", changes: map[string]any{"rope_parameters": map[string]any{"rope_type": "longrope"}}, err: ErrUnsupported, msg: `"longrope"`},
		{name: "rope_scaling not an object", changes: map[string]any{"rope_scaling": "linear"}, err: ErrInvalid, msg: "rope_scaling is not an object"},
		{name: "per-layer rope parameters", changes: map[string]any{"rope_parameters": map[string]any{"full_attention": map[string]any{"rope_type": "default"}}}, err: ErrUnsupported, msg: "per-layer"},
		{name: "linear without factor", changes: map[string]any{"rope_scaling": map[string]any{"type": "linear"}}, err: ErrInvalid, msg: "needs factor"},
		{name: "linear zero factor", changes: map[string]any{"rope_scaling": map[string]any{"type": "linear", "factor": 0}}, err: ErrInvalid, msg: "factor"},
		{name: "llama3 missing factors", changes: map[string]any{"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8}}, err: ErrInvalid, msg: "low_freq_factor"},
		{name: "llama3 high below low", changes: map[string]any{"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": 4, "high_freq_factor": 1}}, err: ErrInvalid, msg: "low_freq_factor"},
		{name: "llama3 zero original", changes: map[string]any{"rope_scaling": map[string]any{"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 0}}, err: ErrInvalid, msg: "original_max_position_embeddings"},
		{name: "partial rotary", changes: map[string]any{"partial_rotary_factor": 0.5}, err: ErrUnsupported, msg: "partial_rotary_factor"},
		{name: "gelu", changes: map[string]any{"hidden_act": "gelu"}, err: ErrUnsupported, msg: `hidden_act "gelu" (only silu)`},
		{name: "mlp bias", changes: map[string]any{"mlp_bias": true}, err: ErrUnsupported, msg: "mlp_bias"},
		{name: "bos list", changes: map[string]any{"bos_token_id": []any{1, 2}}, err: ErrInvalid, msg: "bos_token_id"},
		{name: "eos out of vocab", changes: map[string]any{"eos_token_id": 256}, err: ErrInvalid, msg: "eos_token_id 256 is outside the vocabulary"},
		{name: "negative bos", changes: map[string]any{"bos_token_id": -1}, err: ErrInvalid, msg: "bos_token_id -1"},
		{name: "eos string", changes: map[string]any{"eos_token_id": "2"}, err: ErrInvalid, msg: "eos_token_id"},
		{name: "eos list with null", changes: map[string]any{"eos_token_id": []any{2, nil}}, err: ErrInvalid, msg: "null"},
		{name: "eos list of floats", changes: map[string]any{"eos_token_id": []any{2.5}}, err: ErrInvalid, msg: "eos_token_id"},
		{name: "qwen2 sliding window on", changes: map[string]any{"architectures": []any{"Qwen2ForCausalLM"}, "use_sliding_window": true}, err: ErrUnsupported, msg: "use_sliding_window"},
		{name: "mistral window string", changes: map[string]any{"architectures": []any{"MistralForCausalLM"}, "sliding_window": "4096"}, err: ErrInvalid, msg: "sliding_window"},
		{name: "mistral window negative", changes: map[string]any{"architectures": []any{"MistralForCausalLM"}, "sliding_window": -5}, err: ErrInvalid, msg: "sliding_window"},
		{name: "mistral default kv above heads", changes: map[string]any{"architectures": []any{"MistralForCausalLM"}, "num_key_value_heads": remove}, err: ErrInvalid, msg: "num_key_value_heads"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.raw)
			if tt.raw == "" {
				cfg := baseConfig()
				for k, v := range tt.changes {
					if v == remove {
						delete(cfg, k)
					} else {
						cfg[k] = v
					}
				}
				var err error
				data, err = json.Marshal(cfg)
				require.NoError(t, err)
			}
			c, err := Parse(data)
			assert.Nil(t, c)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.err)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
}

// TestBaseConfigValid makes sure the hostile cases fail because of their
// change, not because the base is broken.
func TestBaseConfigValid(t *testing.T) {
	data, err := json.Marshal(baseConfig())
	require.NoError(t, err)
	c, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, "LlamaForCausalLM", c.Arch.Name)
}

func TestArchRegistryIsCopied(t *testing.T) {
	data, err := os.ReadFile(goldenPath("testdata/models/qwen2/config.json"))
	require.NoError(t, err)
	c, err := Parse(data)
	require.NoError(t, err)
	c.Arch.QKVBias = false
	c2, err := Parse(data)
	require.NoError(t, err)
	assert.True(t, c2.Arch.QKVBias, "changing one Config's Arch must not change the registry")
}

func TestParseGenerationMatchesTransformers(t *testing.T) {
	for key, want := range loadGolden(t).Generation {
		t.Run(key, func(t *testing.T) {
			data, err := os.ReadFile(goldenPath(key))
			require.NoError(t, err)
			got, err := ParseGeneration(data)
			require.NoError(t, err)
			assert.Equal(t, &want.Generation, got)
		})
	}
}

func TestHostileGeneration(t *testing.T) {
	tests := []struct {
		name, json, msg string
	}{
		{"bad JSON", `{"temperature": `, "bad JSON"},
		{"not an object", `"x"`, "bad JSON"},
		{"negative temperature", `{"temperature": -0.5}`, "temperature"},
		{"top_p above one", `{"top_p": 1.5}`, "top_p"},
		{"negative top_k", `{"top_k": -1}`, "top_k"},
		{"zero repetition penalty", `{"repetition_penalty": 0}`, "repetition_penalty"},
		{"negative eos", `{"eos_token_id": [-1]}`, "eos_token_id"},
		{"bos object", `{"bos_token_id": {"id": 1}}`, "bos_token_id"},
		{"huge eos", `{"eos_token_id": 99999999999999999999}`, "eos_token_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGeneration([]byte(tt.json))
			assert.Nil(t, g)
			assert.ErrorIs(t, err, ErrInvalid)
			assert.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestSupportedArchs(t *testing.T) {
	names := SupportedArchs()
	assert.Equal(t, []string{"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"}, names)
	names[0] = "changed"
	assert.Equal(t, "LlamaForCausalLM", SupportedArchs()[0])
	_, err := lookupArch("Foo")
	assert.True(t, errors.Is(err, ErrUnsupportedArch))
	assert.True(t, strings.Contains(err.Error(), "Foo"))
}
