package generate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/engine/tokenizer"
)

// modelsDir holds the golden tiny models, with the greedy continuations
// transformers generated from them (see its README.md).
const modelsDir = "../../testdata/models"

// chatDir is the golden model with a real tokenizer. Its greedy
// continuation decodes, token by token, to
//
//	direction|ast| gravity|醒|PI|äude|Live| tiny| elder| something|aten|译| subm|public| copied| tatto|Opt|льно| retain| Ar
var chatDir = filepath.Join(modelsDir, "tiny-chat")

type golden struct {
	PromptIDs       []int  `json:"prompt_ids"`
	GreedyIDs       []int  `json:"greedy_ids"`
	GreedyIDsUpcast []int  `json:"greedy_ids_upcast"`
	GreedyText      string `json:"greedy_text"`
	DType           string `json:"dtype"`
}

func readGolden(t *testing.T, dir string) golden {
	data, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	require.NoError(t, err)
	var g golden
	require.NoError(t, json.Unmarshal(data, &g))
	require.NotEmpty(t, g.PromptIDs)
	require.NotEmpty(t, g.GreedyIDs)
	return g
}

// wantGreedy is HF's greedy continuation in the dtype the engine computes
// in: float32 for every model (16-bit weights are widened in the kernels).
func (g golden) wantGreedy() []int {
	if g.DType == "float32" {
		return g.GreedyIDs
	}
	return g.GreedyIDsUpcast
}

func loadModel(t *testing.T, dir string) *model.Model {
	m, err := model.Load(dir, model.Options{Threads: 2})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, m.Close()) })
	return m
}

// chat loads tiny-chat with its tokenizer.
func chat(t *testing.T) (*model.Model, *tokenizer.Tokenizer, golden) {
	g := readGolden(t, chatDir)
	tok, err := tokenizer.LoadFS(os.DirFS(chatDir))
	require.NoError(t, err)
	return loadModel(t, chatDir), tok, g
}

// collect runs Run and returns what onToken saw.
func collect(t *testing.T, ctx context.Context, m *model.Model, tok *tokenizer.Tokenizer, c *model.Cache, prompt []int, o Options) ([]Token, Stats, error) {
	var got []Token
	st, err := Run(ctx, m, tok, c, prompt, o, func(tk Token) error {
		got = append(got, tk)
		return nil
	})
	return got, st, err
}

func ids(ts []Token) []int {
	out := make([]int, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID
	}
	return out
}

func texts(ts []Token) []string {
	out := make([]string, len(ts))
	for i, tk := range ts {
		out[i] = tk.Text
	}
	return out
}

// TestGreedyMatchesTransformers generates 20 greedy tokens from every
// golden model and compares them with transformers' greedy_ids (the
// goldens never reach EOS within 20 tokens, so the model's EOS ids are
// passed as in real use).
func TestGreedyMatchesTransformers(t *testing.T) {
	entries, err := os.ReadDir(modelsDir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		dir := filepath.Join(modelsDir, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "golden.json")); err != nil {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			g := readGolden(t, dir)
			m := loadModel(t, dir)
			c := m.NewCache(0)
			want := g.wantGreedy()
			got, st, err := collect(t, context.Background(), m, nil, c, g.PromptIDs,
				Options{MaxTokens: len(want), EOSTokenIDs: m.Config().EOSTokenIDs})
			require.NoError(t, err)
			assert.Equal(t, want, ids(got))
			assert.Equal(t, StopMaxTokens, st.StopReason)
			assert.Equal(t, len(g.PromptIDs), st.PromptTokens)
			assert.Equal(t, len(want), st.GeneratedTokens)
			assert.Equal(t, len(g.PromptIDs)+len(want)-1, c.Len(), "the last token is not fed back")
			for _, tk := range got {
				assert.Empty(t, tk.Text, "no tokenizer, no text")
			}
		})
	}
	require.Positive(t, n)
}

// TestStreamedTextMatchesTransformers checks that the text reported token
// by token adds up to transformers' decoding of the same ids.
func TestStreamedTextMatchesTransformers(t *testing.T) {
	m, tok, g := chat(t)
	got, st, err := collect(t, context.Background(), m, tok, m.NewCache(0), g.PromptIDs, Options{MaxTokens: 20})
	require.NoError(t, err)
	require.Equal(t, g.GreedyIDs, ids(got))
	assert.Equal(t, g.GreedyText, strings.Join(texts(got), ""))
	assert.Equal(t, StopMaxTokens, st.StopReason)
	assert.Positive(t, st.PrefillTokS)
	assert.Positive(t, st.DecodeTokS)
	assert.Positive(t, st.DecodeTime)
}

// TestStopStrings covers stop strings inside one token, across two and
// more tokens, several stop strings at once, partial matches that fail
// and a partial match still open when the token limit ends generation.
func TestStopStrings(t *testing.T) {
	m, tok, g := chat(t)
	tests := []struct {
		name   string
		stops  []string
		max    int
		texts  []string // Text of each reported token
		reason string
	}{
		{
			name:   "inside one token",
			stops:  []string{"gravity"},
			texts:  []string{"direction", "ast", " "},
			reason: StopString,
		},
		{
			name:   "across two tokens",
			stops:  []string{"ast grav"},
			texts:  []string{"direction", "", ""},
			reason: StopString,
		},
		{
			name:   "across four tokens",
			stops:  []string{"PIäudeLive t"},
			texts:  []string{"direction", "ast", " gravity", "醒", "", "", "", ""},
			reason: StopString,
		},
		{
			name:   "multi-byte characters",
			stops:  []string{"醒P"},
			texts:  []string{"direction", "ast", " gravity", "", ""},
			reason: StopString,
		},
		{
			name: "earliest of several wins",
			// "direction" could begin "direction!", then the "t" of "ast"
			// could begin "tiny": both are held back until they cannot.
			stops:  []string{"tiny", "PI", "direction!"},
			texts:  []string{"", "directionas", "t gravity", "醒", ""},
			reason: StopString,
		},
		{
			name:   "partial match released on mismatch",
			stops:  []string{"Live tiny old"},
			max:    9,
			texts:  []string{"direction", "ast", " gravity", "醒", "PI", "äude", "", "", "Live tiny elder"},
			reason: StopMaxTokens,
		},
		{
			name:   "partial match released at the token limit",
			stops:  []string{"äudeLive!"},
			max:    7,
			texts:  []string{"direction", "ast", " gravity", "醒", "PI", "", "äudeLive"},
			reason: StopMaxTokens,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 20
			}
			got, st, err := collect(t, context.Background(), m, tok, m.NewCache(0), g.PromptIDs,
				Options{MaxTokens: max, StopStrings: tc.stops})
			require.NoError(t, err)
			assert.Equal(t, tc.texts, texts(got))
			assert.Equal(t, g.GreedyIDs[:len(got)], ids(got))
			assert.Equal(t, tc.reason, st.StopReason)
			assert.Equal(t, len(got), st.GeneratedTokens)
		})
	}
}

// TestEOS makes an id of the greedy continuation the EOS id: generation
// stops there, the EOS is reported without its text, and text held back
// for a stop string is released with it.
func TestEOS(t *testing.T) {
	m, tok, g := chat(t)
	const at = 7 // " tiny", first seen at index 7
	eos := g.GreedyIDs[at]
	require.NotContains(t, g.GreedyIDs[:at], eos)

	got, st, err := collect(t, context.Background(), m, tok, m.NewCache(0), g.PromptIDs,
		Options{MaxTokens: 20, EOSTokenIDs: []int{99999, eos}, StopStrings: []string{"Live!"}})
	require.NoError(t, err)
	assert.Equal(t, g.GreedyIDs[:at+1], ids(got))
	assert.Equal(t, []string{"direction", "ast", " gravity", "醒", "PI", "äude", "", "Live"}, texts(got))
	assert.Equal(t, StopEOS, st.StopReason)
	assert.Equal(t, at+1, st.GeneratedTokens)
}

// TestMaxTokensAndContextFull checks the two length limits.
func TestMaxTokensAndContextFull(t *testing.T) {
	m, tok, g := chat(t)
	p := len(g.PromptIDs)

	c := m.NewCache(0)
	got, st, err := collect(t, context.Background(), m, tok, c, g.PromptIDs, Options{MaxTokens: 5})
	require.NoError(t, err)
	assert.Equal(t, g.GreedyIDs[:5], ids(got))
	assert.Equal(t, StopMaxTokens, st.StopReason)
	assert.Equal(t, p+4, c.Len())

	// Room for the prompt and three more tokens: the fourth sampled token
	// cannot be fed back, so generation ends with it.
	c = m.NewCache(p + 3)
	got, st, err = collect(t, context.Background(), m, tok, c, g.PromptIDs, Options{MaxTokens: 20})
	require.NoError(t, err)
	assert.Equal(t, g.GreedyIDs[:4], ids(got))
	assert.Equal(t, StopContextFull, st.StopReason)
	assert.Equal(t, p+3, c.Len())

	// A prompt that does not fit at all is a model error.
	c = m.NewCache(p - 1)
	_, st, err = collect(t, context.Background(), m, tok, c, g.PromptIDs, Options{MaxTokens: 20})
	assert.ErrorIs(t, err, model.ErrContextFull)
	assert.Equal(t, "", st.StopReason)
}

// TestContinueConversation runs two generations on one cache: the second
// prompt is appended after the first turn, as in a chat.
func TestContinueConversation(t *testing.T) {
	m, tok, g := chat(t)
	c := m.NewCache(0)
	first, _, err := collect(t, context.Background(), m, tok, c, g.PromptIDs[:10], Options{MaxTokens: 3})
	require.NoError(t, err)
	// Feeding the rest of the golden prompt after an interrupted first
	// turn differs from the golden run, so only check the bookkeeping.
	second, st, err := collect(t, context.Background(), m, tok, c, []int{first[2].ID}, Options{MaxTokens: 2})
	require.NoError(t, err)
	assert.Len(t, second, 2)
	assert.Equal(t, 1, st.PromptTokens)
	assert.Equal(t, 10+2+1+1, c.Len())
}

// TestCancel cancels the context from inside onToken after three tokens.
func TestCancel(t *testing.T) {
	m, tok, g := chat(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	st, err := Run(ctx, m, tok, m.NewCache(0), g.PromptIDs, Options{MaxTokens: 20}, func(Token) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, StopCancelled, st.StopReason)
	assert.Equal(t, 3, st.GeneratedTokens)
	assert.Equal(t, 3, n)

	// Already cancelled: nothing runs.
	c := m.NewCache(0)
	st, err = Run(ctx, m, tok, c, g.PromptIDs, Options{MaxTokens: 20}, nil)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, StopCancelled, st.StopReason)
	assert.Equal(t, 0, c.Len())
}

// TestOnTokenError aborts generation from the callback.
func TestOnTokenError(t *testing.T) {
	m, tok, g := chat(t)
	errStop := errors.New("listener gone")
	n := 0
	st, err := Run(context.Background(), m, tok, m.NewCache(0), g.PromptIDs, Options{MaxTokens: 20}, func(Token) error {
		n++
		if n == 2 {
			return errStop
		}
		return nil
	})
	assert.ErrorIs(t, err, errStop)
	assert.Equal(t, 2, st.GeneratedTokens)
	assert.Equal(t, "", st.StopReason)
}

// TestSeededSampling checks that a seed reproduces a sampled generation
// and that sampling is actually used.
func TestSeededSampling(t *testing.T) {
	m, tok, g := chat(t)
	o := Options{MaxTokens: 20, Sample: sample.Options{Temperature: 1.5, Seed: 7}}
	a, _, err := collect(t, context.Background(), m, tok, m.NewCache(0), g.PromptIDs, o)
	require.NoError(t, err)
	b, _, err := collect(t, context.Background(), m, tok, m.NewCache(0), g.PromptIDs, o)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	assert.NotEqual(t, g.GreedyIDs, ids(a), "temperature 1.5 on a random model should leave the greedy path")
}

// TestInvalidOptions checks argument errors, which run nothing.
func TestInvalidOptions(t *testing.T) {
	m, tok, g := chat(t)
	tests := []struct {
		name   string
		tok    *tokenizer.Tokenizer
		prompt []int
		o      Options
	}{
		{"empty prompt", tok, nil, Options{MaxTokens: 1}},
		{"no max tokens", tok, g.PromptIDs, Options{}},
		{"stop strings without tokenizer", nil, g.PromptIDs, Options{MaxTokens: 1, StopStrings: []string{"x"}}},
		{"empty stop string", tok, g.PromptIDs, Options{MaxTokens: 1, StopStrings: []string{"x", ""}}},
		{"bad sampling options", tok, g.PromptIDs, Options{MaxTokens: 1, Sample: sample.Options{TopP: 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := m.NewCache(0)
			_, err := Run(context.Background(), m, tc.tok, c, tc.prompt, tc.o, nil)
			assert.ErrorIs(t, err, ErrInvalidOptions)
			assert.Equal(t, 0, c.Len())
		})
	}
	_, err := Run(context.Background(), m, tok, nil, g.PromptIDs, Options{MaxTokens: 1}, nil)
	assert.ErrorIs(t, err, ErrInvalidOptions, "nil cache")
	_, err = Run(context.Background(), m, tok, m.NewCache(0), []int{1, 32000}, Options{MaxTokens: 1}, nil)
	assert.ErrorIs(t, err, model.ErrToken)
}

// TestOnLogits checks that the logits hook sees, once per token and before
// sampling, the logits each token was drawn from: under greedy sampling
// each token is the argmax of what the hook saw for it.
func TestOnLogits(t *testing.T) {
	m, _, g := chat(t)
	var seen [][]float32
	o := Options{MaxTokens: 6, OnLogits: func(l []float32) { seen = append(seen, slices.Clone(l)) }}
	got, _, err := collect(t, context.Background(), m, nil, m.NewCache(0), g.PromptIDs, o)
	require.NoError(t, err)
	require.Len(t, seen, len(got))
	for i, l := range seen {
		require.Len(t, l, m.Config().VocabSize)
		best := 0
		for id, v := range l {
			if v > l[best] {
				best = id
			}
		}
		assert.Equal(t, got[i].ID, best, "token %d", i)
	}
}
