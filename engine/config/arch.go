package config

import (
	"fmt"
	"strings"
)

// Arch is an architecture Loom can run, keyed by the first entry of
// config.json's "architectures".
type Arch struct {
	// Name is the transformers class name, e.g. "LlamaForCausalLM".
	Name string
	// QKVBias is true when the q, k and v projections always carry a bias
	// (Qwen2), independent of Config.AttentionBias.
	QKVBias bool
}

// archSpec is a registry entry with the defaults its transformers config
// class applies to keys config.json leaves out.
type archSpec struct {
	Arch
	defaultKVHeads         int // 0 means num_attention_heads
	defaultMaxPositions    int
	defaultBOS, defaultEOS []int
}

// archs is the registry, in the order errors list it.
var archs = []archSpec{
	{Arch: Arch{Name: "LlamaForCausalLM"}, defaultMaxPositions: 2048, defaultBOS: []int{1}, defaultEOS: []int{2}},
	{Arch: Arch{Name: "MistralForCausalLM"}, defaultKVHeads: 8, defaultMaxPositions: 4096 * 32, defaultBOS: []int{1}, defaultEOS: []int{2}},
	{Arch: Arch{Name: "Qwen2ForCausalLM", QKVBias: true}, defaultKVHeads: 32, defaultMaxPositions: 32768},
}

// SupportedArchs returns the names of the supported architectures.
func SupportedArchs() []string {
	names := make([]string, len(archs))
	for i, a := range archs {
		names[i] = a.Name
	}
	return names
}

// lookupArch returns the registry entry for name, or an error wrapping
// ErrUnsupportedArch that names it and lists the supported ones.
func lookupArch(name string) (*archSpec, error) {
	for i := range archs {
		if archs[i].Name == name {
			return &archs[i], nil
		}
	}
	return nil, fmt.Errorf("config: architecture %q (supported: %s): %w", name, strings.Join(SupportedArchs(), ", "), ErrUnsupportedArch)
}
