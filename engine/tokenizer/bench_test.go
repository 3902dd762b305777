package tokenizer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchText is a realistic mixed corpus: the test corpus (prose, code,
// numbers, many scripts, emoji, special tokens) repeated with a counter so
// that the pre-token cache sees new words too.
func benchText(b *testing.B) string {
	raw, err := os.ReadFile(filepath.Join("testdata", "corpus.txt"))
	require.NoError(b, err)
	var sb strings.Builder
	for i := 0; sb.Len() < 256<<10; i++ {
		sb.Write(raw)
		sb.WriteString(strings.Repeat("x", i%7))
		sb.WriteString(" iteration ")
		sb.WriteString(strings.Repeat("9", i%5+1))
		sb.WriteByte('\n')
	}
	return sb.String()
}

// BenchmarkEncode reports encode throughput (MB/s) per real tokenizer.
func BenchmarkEncode(b *testing.B) {
	text := benchText(b)
	for _, name := range realNames {
		b.Run(name, func(b *testing.B) {
			tj, cj := realFiles(b, name)
			tok, err := Load(tj, cj)
			require.NoError(b, err)
			b.SetBytes(int64(len(text)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tok.Encode(text, true)
			}
		})
	}
}

// BenchmarkLoad reports the time to parse each real tokenizer.json.
func BenchmarkLoad(b *testing.B) {
	for _, name := range realNames {
		b.Run(name, func(b *testing.B) {
			tj, cj := realFiles(b, name)
			b.SetBytes(int64(len(tj)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Load(tj, cj); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
