package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

// FuzzLoad feeds arbitrary bytes to Load: it must return an error or a
// tokenizer that encodes and decodes without panicking. Seeds: the small
// synthetic tokenizer files and testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "synthetic", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, ".expected.json") {
			continue
		}
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Load(data, data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "Hello world", " a  b\n\n", "\u00e9e\u0301 日本 👍", "<s>x</s>", "\xff"} {
			ids := tok.Encode(s, true)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d outside [0, %d)", id, tok.VocabSize())
				}
			}
			tok.Decode(ids, false)
			d := tok.NewStreamDecoder()
			for _, id := range ids {
				d.Next(id)
			}
			d.Flush()
		}
		tok.Decode([]int{-1, 0, 1, 2, 1 << 30}, true)
	})
}

var fuzzTokenizers struct {
	once          sync.Once
	llama2, qwen3 *Tokenizer
	err           error
}

func loadFuzzTokenizers(t testing.TB) (*Tokenizer, *Tokenizer) {
	fuzzTokenizers.once.Do(func() {
		for _, p := range []struct {
			name string
			dst  **Tokenizer
		}{{"llama2", &fuzzTokenizers.llama2}, {"qwen3", &fuzzTokenizers.qwen3}} {
			tj, cj := realFiles(t, p.name)
			*p.dst, fuzzTokenizers.err = Load(tj, cj)
			if fuzzTokenizers.err != nil {
				return
			}
		}
	})
	if fuzzTokenizers.err != nil {
		t.Fatal(fuzzTokenizers.err)
	}
	return fuzzTokenizers.llama2, fuzzTokenizers.qwen3
}

// FuzzEncode checks that encoding never panics, produces ids in range,
// streams to the same text as Decode, and round-trips where HF guarantees
// it: byte-level Qwen3 gives back the NFC form of the input; SentencePiece
// Mistral (llama2 files) gives back the input when it has no "▁" and no
// added token in it.
func FuzzEncode(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f.Add(line)
	}
	f.Add(string(raw))
	f.Fuzz(func(t *testing.T, s string) {
		llama2, qwen3 := loadFuzzTokenizers(t)
		for _, tok := range []*Tokenizer{llama2, qwen3} {
			ids := tok.Encode(s, false)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("id %d outside [0, %d)", id, tok.VocabSize())
				}
			}
			d := tok.NewStreamDecoder()
			var b strings.Builder
			for _, id := range ids {
				b.WriteString(d.Next(id))
			}
			b.WriteString(d.Flush())
			if want := tok.Decode(ids, true); b.String() != want {
				t.Fatalf("stream %q != decode %q", b.String(), want)
			}
		}
		if !utf8.ValidString(s) {
			return
		}
		if got, want := qwen3.Decode(qwen3.Encode(s, false), false), norm.NFC.String(s); got != want {
			t.Fatalf("qwen3 round trip: %q -> %q", want, got)
		}
		if strings.Contains(s, "▁") || strings.Contains(s, "<s>") || strings.Contains(s, "</s>") || strings.Contains(s, "<unk>") {
			return
		}
		if got := llama2.Decode(llama2.Encode(s, false), false); got != s {
			t.Fatalf("llama2 round trip: %q -> %q", s, got)
		}
	})
}

// TestFuzzLoadSeeds checks that the committed FuzzLoad seeds are valid
// tokenizers, so that fuzzing starts from inputs that reach encoding.
func TestFuzzLoadSeeds(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzLoad", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, name := range files {
		raw, err := os.ReadFile(name)
		require.NoError(t, err)
		body, ok := strings.CutPrefix(string(raw), "go test fuzz v1\n[]byte(")
		require.True(t, ok, name)
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(body), ")"))
		require.NoError(t, err, name)
		tok, err := Load([]byte(data), nil)
		require.NoError(t, err, name)
		assert.NotEmpty(t, tok.Encode("ab a b Ab", true), name)
	}
}
