package config

import (
	"errors"
	"testing"
)

// FuzzConfig feeds arbitrary bytes to Parse and ParseGeneration: neither may
// panic, every error carries a sentinel, and an accepted config satisfies
// every bound that later sizes an allocation. Seeds:
// testdata/fuzz/FuzzConfig (real config.json files among them).
func FuzzConfig(f *testing.F) {
	f.Add([]byte(`{"architectures": ["MistralForCausalLM"], "vocab_size": 8, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 8, "sliding_window": null, "eos_token_id": [1, 2]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrUnsupportedArch) {
				t.Fatalf("error without a sentinel: %v", err)
			}
		} else {
			checkInvariants(t, c)
		}
		if _, err := ParseGeneration(data); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("generation error without a sentinel: %v", err)
		}
	})
}

// checkInvariants fails if an accepted config breaks a bound Parse promises.
func checkInvariants(t *testing.T, c *Config) {
	t.Helper()
	in := func(name string, v, max int) {
		if v < 1 || v > max {
			t.Fatalf("%s = %d accepted outside [1, %d]", name, v, max)
		}
	}
	in("vocab", c.VocabSize, MaxVocabSize)
	in("hidden", c.HiddenSize, MaxHiddenSize)
	in("intermediate", c.IntermediateSize, MaxIntermediateSize)
	in("layers", c.NumHiddenLayers, MaxLayers)
	in("heads", c.NumAttentionHeads, MaxHeads)
	in("kv heads", c.NumKeyValueHeads, c.NumAttentionHeads)
	in("head_dim", c.HeadDim, MaxHeadDim)
	in("q width", c.NumAttentionHeads*c.HeadDim, MaxHiddenSize)
	in("positions", c.MaxPositionEmbeddings, MaxPositionEmbeddings)
	if c.SlidingWindow != 0 {
		in("window", c.SlidingWindow, MaxPositionEmbeddings)
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 || c.HeadDim%2 != 0 {
		t.Fatalf("heads %d/%d, head_dim %d accepted", c.NumAttentionHeads, c.NumKeyValueHeads, c.HeadDim)
	}
	if c.Arch == nil || c.HiddenAct != "silu" || !(c.RMSNormEps > 0 && c.RMSNormEps < 1) || !finitePositive(c.RopeTheta) {
		t.Fatalf("accepted config with bad arch/act/eps/theta: %+v", c)
	}
	if s := c.RopeScaling; s != nil && (!finitePositive(s.Factor) || (s.Type != "linear" && s.Type != "llama3")) {
		t.Fatalf("accepted rope scaling %+v", s)
	}
	for _, id := range append(append([]int{}, c.BOSTokenIDs...), c.EOSTokenIDs...) {
		if id < 0 || id >= c.VocabSize {
			t.Fatalf("token id %d outside vocab %d", id, c.VocabSize)
		}
	}
}
