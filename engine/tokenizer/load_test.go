package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// miniJSON returns a small valid tokenizer.json with fields overridden.
func miniJSON(t *testing.T, overrides map[string]any) []byte {
	t.Helper()
	doc := map[string]any{
		"version":        "1.0",
		"added_tokens":   []any{map[string]any{"id": 3, "content": "<s>", "special": true}},
		"normalizer":     nil,
		"pre_tokenizer":  nil,
		"post_processor": nil,
		"decoder":        nil,
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil,
			"vocab":  map[string]int{"a": 0, "b": 1, "ab": 2},
			"merges": []string{"a b"},
		},
	}
	for k, v := range overrides {
		if strings.HasPrefix(k, "model.") {
			doc["model"].(map[string]any)[strings.TrimPrefix(k, "model.")] = v
			continue
		}
		doc[k] = v
	}
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	return b
}

func typed(typ string, fields ...any) map[string]any {
	m := map[string]any{"type": typ}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	return m
}

func nested(depth int) any {
	var n any = typed("Lowercase")
	for i := 0; i < depth; i++ {
		n = typed("Sequence", "normalizers", []any{n})
	}
	return n
}

func repeatAny(v any, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func manyAdded(n, size int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"content": fmt.Sprintf("%d%s", i, strings.Repeat("x", size-8))}
	}
	return out
}

func TestLoadErrors(t *testing.T) {
	tmpl := func(single []any, specials map[string]any) map[string]any {
		return typed("TemplateProcessing", "single", single, "pair", []any{}, "special_tokens", specials)
	}
	seqA := map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}
	specS := map[string]any{"SpecialToken": map[string]any{"id": "<s>", "type_id": 0}}
	specials := map[string]any{"<s>": map[string]any{"id": "<s>", "ids": []int{3}, "tokens": []string{"<s>"}}}
	cases := []struct {
		name      string
		raw       []byte
		overrides map[string]any
		want      error
		mention   string
	}{
		{name: "not json", raw: []byte("{"), want: ErrMalformed},
		{name: "wrong shape", raw: []byte(`[1,2]`), want: ErrMalformed},
		{name: "version", overrides: map[string]any{"version": "2.0"}, want: ErrUnsupported, mention: "2.0"},
		{name: "no model", overrides: map[string]any{"model": nil}, want: ErrMalformed},
		{name: "unigram", overrides: map[string]any{"model.type": "Unigram"}, want: ErrUnsupported, mention: "Unigram"},
		{name: "wordpiece", overrides: map[string]any{"model.type": "WordPiece"}, want: ErrUnsupported, mention: "WordPiece"},
		{name: "dropout", overrides: map[string]any{"model.dropout": 0.1}, want: ErrUnsupported, mention: "dropout"},
		{name: "vocab not a map", overrides: map[string]any{"model.vocab": []int{1}}, want: ErrMalformed},
		{name: "negative id", overrides: map[string]any{"model.vocab": map[string]int{"a": -1}}, want: ErrMalformed},
		{name: "huge id", overrides: map[string]any{"model.vocab": map[string]int{"a": MaxVocab}}, want: ErrMalformed},
		{name: "sparse ids", overrides: map[string]any{"model.vocab": map[string]int{"a": 0, "b": 1 << 20}, "model.merges": []string{}}, want: ErrMalformed},
		{name: "merge unknown", overrides: map[string]any{"model.merges": []string{"a c"}}, want: ErrMalformed, mention: `"c"`},
		{name: "merge result unknown", overrides: map[string]any{"model.merges": []string{"b a"}}, want: ErrMalformed, mention: `"ba"`},
		{name: "merge three parts", overrides: map[string]any{"model.merges": []string{"a b c"}}, want: ErrMalformed},
		{name: "merge pair arity", overrides: map[string]any{"model.merges": [][]string{{"a"}}}, want: ErrMalformed},
		{name: "merges not list", overrides: map[string]any{"model.merges": "a b"}, want: ErrMalformed},
		{name: "precompiled", overrides: map[string]any{"normalizer": typed("Precompiled")}, want: ErrUnsupported, mention: "Precompiled"},
		{name: "bert normalizer", overrides: map[string]any{"normalizer": typed("BertNormalizer")}, want: ErrUnsupported, mention: "BertNormalizer"},
		{name: "no type", overrides: map[string]any{"normalizer": map[string]any{"x": 1}}, want: ErrMalformed},
		{name: "type not string", overrides: map[string]any{"normalizer": map[string]any{"type": 5}}, want: ErrMalformed},
		{name: "unicode scripts", overrides: map[string]any{"pre_tokenizer": typed("UnicodeScripts")}, want: ErrUnsupported, mention: "UnicodeScripts"},
		{name: "wordpiece decoder", overrides: map[string]any{"decoder": typed("WordPiece")}, want: ErrUnsupported, mention: "WordPiece"},
		{name: "ctc decoder", overrides: map[string]any{"decoder": typed("CTC")}, want: ErrUnsupported, mention: "CTC"},
		{name: "unknown processor", overrides: map[string]any{"post_processor": typed("Foo")}, want: ErrUnsupported, mention: "Foo"},
		{name: "bad regex", overrides: map[string]any{"pre_tokenizer": typed("Split", "pattern", map[string]any{"Regex": "(a"}, "behavior", "Isolated", "invert", false)}, want: ErrMalformed},
		{name: "backreference", overrides: map[string]any{"pre_tokenizer": typed("Split", "pattern", map[string]any{"Regex": `(a)\1`}, "behavior", "Isolated", "invert", false)}, want: ErrUnsupported},
		{name: "long regex", overrides: map[string]any{"pre_tokenizer": typed("Split", "pattern", map[string]any{"Regex": strings.Repeat("a", 20000)}, "behavior", "Isolated", "invert", false)}, want: ErrUnsupported},
		{name: "pattern kind", overrides: map[string]any{"pre_tokenizer": typed("Split", "pattern", map[string]any{"Glob": "*"}, "behavior", "Isolated")}, want: ErrMalformed},
		{name: "behavior", overrides: map[string]any{"pre_tokenizer": typed("Split", "pattern", map[string]any{"String": " "}, "behavior", "Sideways")}, want: ErrUnsupported, mention: "Sideways"},
		{name: "metaspace replacement", overrides: map[string]any{"pre_tokenizer": typed("Metaspace", "replacement", "ab")}, want: ErrMalformed},
		{name: "metaspace scheme", overrides: map[string]any{"pre_tokenizer": typed("Metaspace", "replacement", "▁", "prepend_scheme", "sometimes")}, want: ErrUnsupported},
		{name: "metaspace legacy mismatch", overrides: map[string]any{"pre_tokenizer": typed("Metaspace", "replacement", "▁", "add_prefix_space", false, "prepend_scheme", "always")}, want: ErrMalformed},
		{name: "template missing special", overrides: map[string]any{"post_processor": tmpl([]any{specS, seqA}, map[string]any{})}, want: ErrMalformed, mention: "<s>"},
		{name: "template sequence B", overrides: map[string]any{"post_processor": tmpl([]any{map[string]any{"Sequence": map[string]any{"id": "B", "type_id": 0}}}, specials)}, want: ErrMalformed},
		{name: "template bad id", overrides: map[string]any{"post_processor": tmpl([]any{specS}, map[string]any{"<s>": map[string]any{"ids": []int{-4}}})}, want: ErrMalformed},
		{name: "two templates", overrides: map[string]any{"post_processor": typed("Sequence", "processors", []any{tmpl([]any{specS, seqA}, specials), tmpl([]any{seqA, specS}, specials)})}, want: ErrUnsupported},
		{name: "bert processing arity", overrides: map[string]any{"post_processor": typed("BertProcessing", "cls", []any{"<s>"}, "sep", []any{"</s>", 2})}, want: ErrMalformed},
		{name: "deep nesting", overrides: map[string]any{"normalizer": nested(40)}, want: ErrMalformed},
		{name: "strip negative", overrides: map[string]any{"decoder": typed("Strip", "content", " ", "start", -1, "stop", 0)}, want: ErrMalformed},
		{name: "duplicate normalized added", overrides: map[string]any{
			"normalizer":   typed("Lowercase"),
			"added_tokens": []any{map[string]any{"content": "X", "normalized": true}, map[string]any{"content": "x", "normalized": true}},
		}, want: ErrMalformed},
		{name: "too many components", overrides: map[string]any{"normalizer": typed("Sequence", "normalizers", []any{
			typed("Sequence", "normalizers", repeatAny(typed("Lowercase"), 600)),
			typed("Sequence", "normalizers", repeatAny(typed("Lowercase"), 600)),
		})}, want: ErrMalformed, mention: "components"},
		{name: "too much regex", overrides: map[string]any{"pre_tokenizer": typed("Sequence", "pretokenizers",
			repeatAny(typed("Split", "pattern", map[string]any{"Regex": strings.Repeat("a", 15000)}, "behavior", "Isolated"), 5))}, want: ErrUnsupported, mention: "patterns longer"},
		{name: "added tokens too large", overrides: map[string]any{"added_tokens": manyAdded(70, MaxTokenBytes)}, want: ErrMalformed, mention: "total"},
		{name: "added token too long", overrides: map[string]any{"added_tokens": []any{map[string]any{"content": strings.Repeat("x", MaxTokenBytes+1)}}}, want: ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := c.raw
			if raw == nil {
				raw = miniJSON(t, c.overrides)
			}
			_, err := Load(raw, nil)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.want)
			if c.mention != "" {
				assert.Contains(t, err.Error(), c.mention)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	tj := miniJSON(t, nil)
	cases := []struct {
		name     string
		cfg      string
		template string
		bos, eos string
		eosIDs   []int
		wantErr  bool
	}{
		{name: "strings", cfg: `{"chat_template":"T","bos_token":"<s>","eos_token":"ab"}`, template: "T", bos: "<s>", eos: "ab", eosIDs: []int{2}},
		{name: "objects", cfg: `{"bos_token":{"__type":"AddedToken","content":"<s>"},"eos_token":{"content":"<s>"}}`, bos: "<s>", eos: "<s>", eosIDs: []int{3}},
		{name: "named templates", cfg: `{"chat_template":[{"name":"tool_use","template":"U"},{"name":"default","template":"D"}]}`, template: "D"},
		{name: "nulls", cfg: `{"chat_template":null,"bos_token":null,"eos_token":null}`},
		{name: "unknown eos", cfg: `{"eos_token":"</s>"}`, eos: "</s>"},
		{name: "bad json", cfg: `{`, wantErr: true},
		{name: "bad template", cfg: `{"chat_template":5}`, wantErr: true},
		{name: "bad token", cfg: `{"eos_token":[1]}`, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tok, err := Load(tj, []byte(c.cfg))
			if c.wantErr {
				assert.ErrorIs(t, err, ErrMalformed)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.template, tok.ChatTemplate())
			assert.Equal(t, c.bos, tok.BOSToken())
			assert.Equal(t, c.eos, tok.EOSToken())
			assert.Equal(t, c.eosIDs, tok.EOSTokenIDs())
		})
	}
}

func TestLoadFS(t *testing.T) {
	tj := miniJSON(t, nil)
	tok, err := LoadFS(fstest.MapFS{
		"tokenizer.json":        {Data: tj},
		"tokenizer_config.json": {Data: []byte(`{"eos_token":"<s>"}`)},
	})
	require.NoError(t, err)
	assert.Equal(t, "<s>", tok.EOSToken())
	assert.Equal(t, []int{2, 3, 0}, tok.Encode("ab<s>a", false))

	tok, err = LoadFS(fstest.MapFS{"tokenizer.json": {Data: tj}})
	require.NoError(t, err)
	assert.Equal(t, "", tok.EOSToken())

	_, err = LoadFS(fstest.MapFS{})
	assert.Error(t, err)

	_, err = LoadFS(fstest.MapFS{"tokenizer.json": {Data: tj}, "tokenizer_config.json": {Data: []byte("[")}})
	assert.ErrorIs(t, err, ErrMalformed)
}

func TestLookups(t *testing.T) {
	tok, err := Load(miniJSON(t, nil), nil)
	require.NoError(t, err)
	assert.Equal(t, 4, tok.VocabSize())
	id, ok := tok.TokenID("ab")
	assert.True(t, ok)
	assert.Equal(t, 2, id)
	_, ok = tok.TokenID("zz")
	assert.False(t, ok)
	assert.Equal(t, "<s>", tok.Token(3))
	assert.Equal(t, "", tok.Token(99))
	assert.Equal(t, "", tok.Token(-1))
	// No decoder: tokens joined by spaces; unknown ids skipped.
	assert.Equal(t, "ab <s> a", tok.Decode([]int{2, 3, -7, 99, 0}, false))
	assert.Equal(t, "ab a", tok.Decode([]int{2, 3, 0}, true))
}

// TestInvalidUTF8 checks that invalid input is encoded as its
// String::from_utf8_lossy replacement, never panicking.
func TestInvalidUTF8(t *testing.T) {
	tj, cj := realFiles(t, "qwen3")
	tok, err := Load(tj, cj)
	require.NoError(t, err)
	for _, in := range []string{"\xff", "a\xe2\x82b", "\xf0\x9f\x98", "ok\xc3"} {
		want := lossyUTF8([]byte(in))
		require.True(t, utf8.ValidString(want))
		assert.Equal(t, tok.Encode(want, true), tok.Encode(in, true), "%q", in)
	}
}

// TestLossyUTF8 checks the maximal-subpart replacement against the
// examples of the Unicode standard (table 3-8) that Rust's from_utf8_lossy
// follows.
func TestLossyUTF8(t *testing.T) {
	cases := []struct{ in, want string }{
		{"abc", "abc"},
		{"\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", "a\ufffd\ufffd\ufffdb\ufffdc\ufffd\ufffdd"},
		{"\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdA"},
		{"\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41", "\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffdA"},
		{"\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42", "\ufffd\ufffd\ufffd\ufffd\ufffdA\ufffd\ufffdB"},
		{"\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41", "\ufffd\ufffd\ufffd\ufffdA"},
		{"\xe2\x82", "\ufffd"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, lossyUTF8([]byte(c.in)), "%q", c.in)
	}
}

// TestVocabSizeCoversTemplate checks that ids added by a post-processor
// but absent from the vocabulary stay below VocabSize.
func TestVocabSizeCoversTemplate(t *testing.T) {
	tj := miniJSON(t, map[string]any{"post_processor": typed("TemplateProcessing",
		"single", []any{map[string]any{"SpecialToken": map[string]any{"id": "X", "type_id": 0}}, map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}}},
		"pair", []any{}, "special_tokens", map[string]any{"X": map[string]any{"id": "X", "ids": []int{40}, "tokens": []string{"X"}}})})
	tok, err := Load(tj, nil)
	require.NoError(t, err)
	assert.Equal(t, []int{40, 2}, tok.Encode("ab", true))
	assert.Equal(t, 41, tok.VocabSize())
}

// TestConcurrentEncode encodes from several goroutines (run with -race).
func TestConcurrentEncode(t *testing.T) {
	tj, cj := realFiles(t, "qwen3")
	tok, err := Load(tj, cj)
	require.NoError(t, err)
	lines := []string{"Hello world", "こんにちは世界", "  spaced  out  ", "func main() {}", "<|im_start|>user"}
	want := make([][]int, len(lines))
	for i, l := range lines {
		want[i] = tok.Encode(l, true)
	}
	done := make(chan [][]int)
	for g := 0; g < 4; g++ {
		go func() {
			got := make([][]int, len(lines))
			for r := 0; r < 50; r++ {
				for i, l := range lines {
					got[i] = tok.Encode(l, true)
				}
			}
			done <- got
		}()
	}
	for g := 0; g < 4; g++ {
		assert.Equal(t, want, <-done)
	}
}
