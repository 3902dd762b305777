package tokenizer

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// golden is an expected.json written by ci/reference/tokenizer_golden.mjs
// from HF tokenizers.
type golden struct {
	VocabSize int `json:"vocab_size"`
	Cases     []struct {
		Text               string `json:"text"`
		IDs                []int  `json:"ids"`
		IDsSpecial         []int  `json:"ids_special"`
		Decoded            string `json:"decoded"`
		DecodedSpecial     string `json:"decoded_special"`
		DecodedSpecialSkip string `json:"decoded_special_skip"`
	} `json:"cases"`
	Lookups []struct {
		ID      int     `json:"id"`
		Token   *string `json:"token"`
		TokenID *int    `json:"token_id"`
	} `json:"lookups"`
}

func readGolden(t *testing.T, path string) golden {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		require.NoError(t, err)
		raw, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	var g golden
	require.NoError(t, json.Unmarshal(raw, &g))
	require.NotEmpty(t, g.Cases)
	return g
}

// streamAll runs ids through a StreamDecoder and returns the concatenated
// text. A chunk that ended inside a character would show up as a U+FFFD
// that the full decode does not have.
func streamAll(t *testing.T, tok *Tokenizer, ids []int) string {
	d := tok.NewStreamDecoder()
	var b strings.Builder
	for _, id := range ids {
		chunk := d.Next(id)
		assert.True(t, utf8.ValidString(chunk))
		b.WriteString(chunk)
	}
	b.WriteString(d.Flush())
	return b.String()
}

func checkGolden(t *testing.T, tok *Tokenizer, g golden) {
	assert.Equal(t, g.VocabSize, tok.VocabSize(), "vocab size")
	for _, c := range g.Cases {
		label := c.Text
		if len(label) > 60 {
			label = label[:60] + "..."
		}
		assert.Equal(t, c.IDs, tok.Encode(c.Text, false), "encode %q", label)
		assert.Equal(t, c.IDsSpecial, tok.Encode(c.Text, true), "encode with special tokens %q", label)
		assert.Equal(t, c.Decoded, tok.Decode(c.IDs, false), "decode %q", label)
		assert.Equal(t, c.DecodedSpecial, tok.Decode(c.IDsSpecial, false), "decode with special tokens %q", label)
		assert.Equal(t, c.DecodedSpecialSkip, tok.Decode(c.IDsSpecial, true), "decode skipping special tokens %q", label)
		assert.Equal(t, c.DecodedSpecialSkip, streamAll(t, tok, c.IDsSpecial), "stream decode %q", label)
	}
}

// TestRealTokenizers checks the four real tokenizer files against HF
// tokenizers on every corpus line, the whole corpus and extra edge cases.
func TestRealTokenizers(t *testing.T) {
	for _, name := range realNames {
		t.Run(name, func(t *testing.T) {
			tj, cj := realFiles(t, name)
			tok, err := Load(tj, cj)
			require.NoError(t, err)
			g := readGolden(t, filepath.Join("testdata", name, "expected.json"))
			checkGolden(t, tok, g)
			require.NotEmpty(t, g.Lookups)
			for _, l := range g.Lookups {
				if l.Token == nil {
					assert.Equal(t, "", tok.Token(l.ID), "token %d", l.ID)
					continue
				}
				assert.Equal(t, *l.Token, tok.Token(l.ID), "token %d", l.ID)
				id, ok := tok.TokenID(*l.Token)
				require.NotNil(t, l.TokenID)
				assert.True(t, ok)
				assert.Equal(t, *l.TokenID, id, "id of %q", *l.Token)
			}
		})
	}
}

type variantsFile struct {
	Variants []struct {
		Name  string                     `json:"name"`
		Base  string                     `json:"base"`
		Patch map[string]json.RawMessage `json:"patch"`
	} `json:"variants"`
}

// applyPatch mirrors applyPatch in tokenizer_golden.mjs.
func applyPatch(t *testing.T, doc map[string]json.RawMessage, patch map[string]json.RawMessage) {
	for k, v := range patch {
		switch k {
		case "model":
			var model, fields map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(doc["model"], &model))
			require.NoError(t, json.Unmarshal(v, &fields))
			for fk, fv := range fields {
				model[fk] = fv
			}
			b, err := json.Marshal(model)
			require.NoError(t, err)
			doc["model"] = b
		case "added_tokens_append":
			var cur, more []json.RawMessage
			require.NoError(t, json.Unmarshal(doc["added_tokens"], &cur))
			require.NoError(t, json.Unmarshal(v, &more))
			b, err := json.Marshal(append(cur, more...))
			require.NoError(t, err)
			doc["added_tokens"] = b
		default:
			doc[k] = v
		}
	}
}

// TestVariants checks components the real files do not use by patching
// them onto real files, against HF tokenizers run on the same patches.
func TestVariants(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "variants.json"))
	require.NoError(t, err)
	var vf variantsFile
	require.NoError(t, json.Unmarshal(raw, &vf))
	require.NotEmpty(t, vf.Variants)
	bases := map[string][]byte{}
	for _, v := range vf.Variants {
		t.Run(v.Name, func(t *testing.T) {
			if bases[v.Base] == nil {
				bases[v.Base], _ = realFiles(t, v.Base)
			}
			var doc map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(bases[v.Base], &doc))
			applyPatch(t, doc, v.Patch)
			patched, err := json.Marshal(doc)
			require.NoError(t, err)
			tok, err := Load(patched, nil)
			require.NoError(t, err)
			checkGolden(t, tok, readGolden(t, filepath.Join("testdata", "variants", v.Name+".json.gz")))
		})
	}
}

// TestSynthetic checks the small hand-made tokenizer files (continuing
// subword prefix, end-of-word suffix, legacy merges, partial byte
// fallback, Bert and Roberta processing) against HF tokenizers.
func TestSynthetic(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "synthetic", "*.json"))
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".expected.json") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			tok, err := Load(raw, nil)
			require.NoError(t, err)
			checkGolden(t, tok, readGolden(t, strings.TrimSuffix(f, ".json")+".expected.json"))
		})
	}
	require.Equal(t, 2, n)
}
