package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/safetensors"
)

// Shape is the architecture of a new LlamaForCausalLM.
type Shape struct {
	VocabSize    int
	Hidden       int // hidden_size
	Intermediate int // intermediate_size of the SwiGLU MLP
	Layers       int
	Heads        int // query heads
	KVHeads      int // key/value heads; must divide Heads
	HeadDim      int // 0 means Hidden/Heads
	Context      int // max_position_embeddings
	RopeTheta    float64
	RMSNormEps   float64
	Tied         bool // lm_head shares the embedding
	BOS          int  // bos_token_id, or -1 for none
	EOS          []int
}

// LlamaConfig returns the validated config of a new model of shape s, as
// engine/config parses the config.json HubConfig writes for it.
func LlamaConfig(s Shape) (*config.Config, error) {
	headDim := s.HeadDim
	if headDim == 0 && s.Heads > 0 {
		headDim = s.Hidden / s.Heads
	}
	cfg := &config.Config{
		Architectures: []string{"LlamaForCausalLM"}, ModelType: "llama",
		VocabSize: s.VocabSize, HiddenSize: s.Hidden, IntermediateSize: s.Intermediate,
		NumHiddenLayers: s.Layers, NumAttentionHeads: s.Heads, NumKeyValueHeads: s.KVHeads,
		HeadDim: headDim, MaxPositionEmbeddings: s.Context,
		RMSNormEps: s.RMSNormEps, RopeTheta: s.RopeTheta, TieWordEmbeddings: s.Tied,
		EOSTokenIDs: s.EOS, HiddenAct: "silu",
	}
	if s.BOS >= 0 {
		cfg.BOSTokenIDs = []int{s.BOS}
	}
	data, err := HubConfig(cfg, safetensors.F32)
	if err != nil {
		return nil, err
	}
	out, err := config.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("train: model shape: %w", err)
	}
	return out, nil
}

// HubConfig returns cfg as config.json in the layout of Hugging Face Hub
// checkpoints (top-level rope_theta, torch_dtype), for the given weight
// dtype, with the keys transformers' config class of the architecture
// reads. Only unscaled RoPE is written (Model trains no other).
func HubConfig(cfg *config.Config, dtype safetensors.DType) ([]byte, error) {
	torchDtype := map[safetensors.DType]string{safetensors.F32: "float32", safetensors.BF16: "bfloat16", safetensors.F16: "float16"}[dtype]
	if torchDtype == "" {
		return nil, fmt.Errorf("train: dtype %s: %w", dtype, ErrUnsupported)
	}
	if cfg.RopeScaling != nil || len(cfg.Architectures) == 0 {
		return nil, fmt.Errorf("train: config.json for %q with rope scaling %v: %w", cfg.Architectures, cfg.RopeScaling, ErrUnsupported)
	}
	c := map[string]any{
		"architectures":           cfg.Architectures,
		"model_type":              cfg.ModelType,
		"vocab_size":              cfg.VocabSize,
		"hidden_size":             cfg.HiddenSize,
		"intermediate_size":       cfg.IntermediateSize,
		"num_hidden_layers":       cfg.NumHiddenLayers,
		"num_attention_heads":     cfg.NumAttentionHeads,
		"num_key_value_heads":     cfg.NumKeyValueHeads,
		"head_dim":                cfg.HeadDim,
		"max_position_embeddings": cfg.MaxPositionEmbeddings,
		"rms_norm_eps":            cfg.RMSNormEps,
		"rope_theta":              cfg.RopeTheta,
		"rope_scaling":            nil,
		"tie_word_embeddings":     cfg.TieWordEmbeddings,
		"hidden_act":              cfg.HiddenAct,
		"attention_dropout":       0.0,
		"initializer_range":       0.02,
		"use_cache":               true,
		"torch_dtype":             torchDtype,
		"bos_token_id":            nil,
		"eos_token_id":            nil,
	}
	if len(cfg.BOSTokenIDs) == 1 {
		c["bos_token_id"] = cfg.BOSTokenIDs[0]
	}
	switch len(cfg.EOSTokenIDs) {
	case 0:
	case 1:
		c["eos_token_id"] = cfg.EOSTokenIDs[0]
	default:
		c["eos_token_id"] = cfg.EOSTokenIDs
	}
	switch cfg.Architectures[0] {
	case "LlamaForCausalLM":
		c["attention_bias"] = cfg.AttentionBias
		c["mlp_bias"] = false
		c["pretraining_tp"] = 1
	case "MistralForCausalLM":
		c["sliding_window"] = nil
		if cfg.SlidingWindow > 0 {
			c["sliding_window"] = cfg.SlidingWindow
		}
	case "Qwen2ForCausalLM":
		c["use_sliding_window"] = false
	default:
		return nil, fmt.Errorf("train: config.json for %q: %w", cfg.Architectures[0], ErrUnsupported)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil { // map keys come out sorted
		return nil, fmt.Errorf("train: config.json: %w", err)
	}
	return buf.Bytes(), nil
}

// Save writes the model to dir in the Hugging Face layout:
// model.safetensors (dtype F32, BF16 or F16, metadata {"format": "pt"})
// and config.json (HubConfig). dir is created if needed; existing files
// are replaced atomically.
func (m *Model) Save(dir string, dtype safetensors.DType) error {
	tensors, err := m.Tensors(dtype)
	if err != nil {
		return err
	}
	cfg, err := HubConfig(m.cfg, dtype)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), tensors, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, "config.json"), cfg)
}

// WriteGenerationConfig writes generation_config.json to dir with the
// model's bos and eos ids (bos < 0 for none) as transformers writes it.
func WriteGenerationConfig(dir string, bos int, eos []int) error {
	c := map[string]any{"_from_model_config": true}
	if bos >= 0 {
		c["bos_token_id"] = bos
	}
	switch len(eos) {
	case 0:
	case 1:
		c["eos_token_id"] = eos[0]
	default:
		c["eos_token_id"] = eos
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("train: generation_config.json: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, "generation_config.json"), append(data, '\n'))
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory and a rename, so that readers never see a partial file.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("train: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("train: %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("train: %w", err)
	}
	return nil
}
