package tokenizer

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/loomai/loom/engine/chat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trainSpecial are the special tokens the committed trained tokenizer has.
var trainSpecial = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// trainGolden is testdata/train/golden.json, written by
// testdata/train/reference.py with Hugging Face tokenizers and transformers.
type trainGolden struct {
	Documents int `json:"documents"`
	Encode    []struct {
		Text       string `json:"text"`
		IDs        []int  `json:"ids"`
		IDsSpecial []int  `json:"ids_special"`
		Decoded    string `json:"decoded"`
	} `json:"encode"`
	Chat []struct {
		Config              string         `json:"config"`
		Messages            []chat.Message `json:"messages"`
		AddGenerationPrompt bool           `json:"add_generation_prompt"`
		Text                string         `json:"text"`
	} `json:"chat"`
	HFTrainer struct {
		Vocab  []string    `json:"vocab"`
		Merges [][2]string `json:"merges"`
	} `json:"hf_trainer"`
}

func loadTrainGolden(t *testing.T) trainGolden {
	t.Helper()
	data, err := os.ReadFile("testdata/train/golden.json")
	require.NoError(t, err)
	var g trainGolden
	require.NoError(t, json.Unmarshal(data, &g))
	return g
}

// trainDocs are the documents of testdata/train/corpus.txt: text between
// lines "%%" (what `loom train-tokenizer --separator %%` reads).
func trainDocs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("testdata/train/corpus.txt")
	require.NoError(t, err)
	var docs []string
	for _, d := range strings.Split(string(data), "\n%%\n") {
		d = strings.TrimSuffix(d, "\n%%")
		if d != "" {
			docs = append(docs, d)
		}
	}
	return docs
}

// TestTrainBPEReproducesCommitted retrains the committed tokenizer (whose
// behaviour the Hugging Face goldens below pin down) and requires the same
// bytes, twice: training is deterministic.
func TestTrainBPEReproducesCommitted(t *testing.T) {
	docs := trainDocs(t)
	require.Equal(t, loadTrainGolden(t).Documents, len(docs), "the corpus splits as reference.py splits it")
	want, err := os.ReadFile("testdata/train/tokenizer.json")
	require.NoError(t, err)
	for range 2 {
		got, err := TrainBPE(docs, TrainOptions{VocabSize: 600, SpecialTokens: trainSpecial})
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
	}
}

// TestTrainedTokenizerMatchesHF: Hugging Face tokenizers loads the trained
// tokenizer.json, and this package encodes and decodes every corpus
// document and probe exactly as it does.
func TestTrainedTokenizerMatchesHF(t *testing.T) {
	g := loadTrainGolden(t)
	require.Greater(t, len(g.Encode), g.Documents)
	tj, err := os.ReadFile("testdata/train/tokenizer.json")
	require.NoError(t, err)
	cj, err := os.ReadFile("testdata/train/tokenizer_config.json")
	require.NoError(t, err)
	tok, err := Load(tj, cj)
	require.NoError(t, err)
	assert.Equal(t, 600, tok.VocabSize())
	for i, c := range g.Encode {
		got := tok.Encode(c.Text, false)
		if len(c.IDs) == 0 {
			assert.Empty(t, got, "case %d", i)
		} else {
			assert.Equal(t, c.IDs, got, "case %d: %q", i, c.Text)
		}
		if len(c.IDsSpecial) == 0 {
			assert.Empty(t, tok.Encode(c.Text, true), "case %d", i)
		} else {
			assert.Equal(t, c.IDsSpecial, tok.Encode(c.Text, true), "case %d with special tokens", i)
		}
		assert.Equal(t, c.Decoded, tok.Decode(c.IDs, false), "case %d decoded", i)
	}
	assert.Equal(t, "<|im_start|>", tok.BOSToken())
	assert.Equal(t, []int{2}, tok.EOSTokenIDs())
}

// TestTrainedChatTemplateMatchesHF: the ChatML templates written to
// tokenizer_config.json render in engine/chat as transformers renders them.
func TestTrainedChatTemplateMatchesHF(t *testing.T) {
	g := loadTrainGolden(t)
	require.NotEmpty(t, g.Chat)
	templates := map[string]string{}
	for _, name := range []string{"tokenizer_config.json", "tokenizer_config_system.json"} {
		var c struct {
			ChatTemplate string `json:"chat_template"`
		}
		data, err := os.ReadFile("testdata/train/" + name)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(data, &c))
		templates[name] = c.ChatTemplate
	}
	want, err := ChatMLTemplate("")
	require.NoError(t, err)
	assert.Equal(t, want, templates["tokenizer_config.json"])
	want, err = ChatMLTemplate("You are Eldric, a wise old wizard. Answer briefly.")
	require.NoError(t, err)
	assert.Equal(t, want, templates["tokenizer_config_system.json"])
	for i, c := range g.Chat {
		got, err := chat.Render(templates[c.Config], c.Messages, chat.Options{AddGenerationPrompt: c.AddGenerationPrompt})
		require.NoError(t, err)
		assert.Equal(t, c.Text, got, "case %d (%s)", i, c.Config)
	}
}

// TestTrainBPEMatchesHFTrainer: on text without special tokens (which HF's
// trainer does not cut out), the merges and vocabulary are exactly those
// Hugging Face's BpeTrainer learns with the same pipeline and settings.
func TestTrainBPEMatchesHFTrainer(t *testing.T) {
	g := loadTrainGolden(t)
	require.NotEmpty(t, g.HFTrainer.Merges)
	var docs []string
	for _, d := range trainDocs(t) {
		if !strings.Contains(d, "<|") {
			docs = append(docs, d)
		}
	}
	data, err := TrainBPE(docs, TrainOptions{VocabSize: 600, MinFrequency: 2, SpecialTokens: trainSpecial})
	require.NoError(t, err)
	var f struct {
		Model struct {
			Vocab  map[string]int `json:"vocab"`
			Merges [][2]string    `json:"merges"`
		} `json:"model"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	assert.Equal(t, g.HFTrainer.Merges, f.Model.Merges)
	vocab := make([]string, len(f.Model.Vocab))
	for s, id := range f.Model.Vocab {
		vocab[id] = s
	}
	assert.Equal(t, g.HFTrainer.Vocab, vocab)
}

func TestTrainBPEErrors(t *testing.T) {
	cases := []struct {
		name string
		o    TrainOptions
	}{
		{"vocabulary below the byte alphabet", TrainOptions{VocabSize: 258, SpecialTokens: trainSpecial}},
		{"vocabulary too large", TrainOptions{VocabSize: MaxTrainVocab + 1}},
		{"repeated special token", TrainOptions{VocabSize: 300, SpecialTokens: []string{"<a>", "<a>"}}},
		{"empty special token", TrainOptions{VocabSize: 300, SpecialTokens: []string{""}}},
		{"negative min frequency", TrainOptions{VocabSize: 300, MinFrequency: -1}},
	}
	for _, c := range cases {
		_, err := TrainBPE([]string{"text"}, c.o)
		assert.ErrorIs(t, err, ErrTrain, c.name)
	}
	_, err := ChatMLTemplate("inject {{ raise_exception('x') }}")
	assert.ErrorIs(t, err, ErrTrain)
	_, err = ConfigJSON(ConfigOptions{SpecialTokens: trainSpecial, EOS: "</s>"})
	assert.ErrorIs(t, err, ErrTrain, "eos must be a special token")

	// Hostile input trains without error: invalid UTF-8, empty documents,
	// and a vocabulary larger than the corpus can fill.
	data, err := TrainBPE([]string{"", "\xff\xfe broken", "aaaa"}, TrainOptions{VocabSize: 10000, MinFrequency: 1})
	require.NoError(t, err)
	tok, err := Load(data, nil)
	require.NoError(t, err)
	assert.Less(t, tok.VocabSize(), 300)
}
