package train

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripDir is a checkpoint written by `loom train` (the command is in
// cmd/loom's TestTrainCommandReproducesRoundTrip, which also checks that
// it still reproduces these bytes); golden.json and logits.f32 beside it
// are what transformers computes from it (ci/reference/train_golden.py).
const roundTripDir = "testdata/roundtrip"

// TestRoundTripMatchesTransformers: transformers loads the Loom-trained
// checkpoint (bf16 safetensors, config.json, tokenizer files) and its
// logits agree with Loom's, through this package and through engine/model;
// Loom's tokenizer and chat template give transformers' prompt ids.
func TestRoundTripMatchesTransformers(t *testing.T) {
	data, err := os.ReadFile(roundTripDir + "/golden.json")
	require.NoError(t, err)
	var g struct {
		Messages  []chat.Message `json:"messages"`
		Text      string         `json:"text"`
		IDs       []int          `json:"ids"`
		VocabSize int            `json:"vocab_size"`
	}
	require.NoError(t, json.Unmarshal(data, &g))
	raw, err := os.ReadFile(roundTripDir + "/logits.f32")
	require.NoError(t, err)
	require.Len(t, raw, 4*len(g.IDs)*g.VocabSize)
	want := make([]float32, len(raw)/4)
	for i := range want {
		want[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}

	tok, err := tokenizer.LoadFS(os.DirFS(roundTripDir))
	require.NoError(t, err)
	text, err := chat.Render(tok.ChatTemplate(), g.Messages, chat.Options{AddGenerationPrompt: true})
	require.NoError(t, err)
	assert.Equal(t, g.Text, text)
	assert.Equal(t, g.IDs, tok.Encode(text, false))

	m, err := Load(roundTripDir)
	require.NoError(t, err)
	pool := kernels.NewPool(2)
	defer pool.Close()
	got, err := m.Logits(pool, Batch{Tokens: g.IDs, Rows: 1, Len: len(g.IDs)})
	require.NoError(t, err)
	e := relErr(got, want)
	t.Logf("Loom vs transformers logits: max difference %.2e of the largest logit", e)
	assert.LessOrEqual(t, e, tolerance)

	im, err := model.Load(roundTripDir, model.Options{Threads: 2})
	require.NoError(t, err)
	defer im.Close()
	inf, err := im.Forward(im.NewCache(0), g.IDs, true)
	require.NoError(t, err)
	assert.Equal(t, bitsOf(got), bitsOf(inf), "engine/model gives the training pass's logits")
}
