package tokenizer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// xorshift is a tiny deterministic generator for test inputs.
type xorshift uint64

func (x *xorshift) next(n int) int {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return int(uint64(*x) % uint64(n))
}

// interestingIDs are ids whose decoding interacts with neighbours: byte
// fallback tokens, byte-level tokens of partial characters, leading-space
// markers and special tokens.
func interestingIDs(tok *Tokenizer) []int {
	var ids []int
	for id := 0; id < tok.VocabSize(); id++ {
		s := tok.Token(id)
		_, isByte := parseByteToken(s)
		if isByte || tok.added.special[s] || s == "▁" || s == "Ġ" || s == "▁▁" ||
			strings.HasPrefix(s, "ð") || strings.HasPrefix(s, "ì") || strings.HasPrefix(s, "Ċ") {
			ids = append(ids, id)
		}
	}
	return ids
}

// TestStreamRandom feeds random id sequences to the stream decoder: the
// chunks concatenate to Decode(ids, true), so no chunk ended inside a
// character or inside a byte-fallback run.
func TestStreamRandom(t *testing.T) {
	for _, name := range realNames {
		t.Run(name, func(t *testing.T) {
			tj, cj := realFiles(t, name)
			tok, err := Load(tj, cj)
			require.NoError(t, err)
			pool := interestingIDs(tok)
			require.NotEmpty(t, pool)
			rng := xorshift(0x9e3779b97f4a7c15)
			for n := 0; n < 400; n++ {
				ids := make([]int, 1+rng.next(40))
				for i := range ids {
					if rng.next(2) == 0 {
						ids[i] = pool[rng.next(len(pool))]
					} else {
						ids[i] = rng.next(tok.VocabSize())
					}
				}
				d := tok.NewStreamDecoder()
				var b strings.Builder
				for _, id := range ids {
					b.WriteString(d.Next(id))
				}
				b.WriteString(d.Flush())
				assert.Equal(t, tok.Decode(ids, true), b.String(), "ids %v", ids)
			}
		})
	}
}

// TestStreamFlushResets checks that a stream can be reused after Flush.
func TestStreamFlushResets(t *testing.T) {
	tj, cj := realFiles(t, "llama2")
	tok, err := Load(tj, cj)
	require.NoError(t, err)
	d := tok.NewStreamDecoder()
	for _, text := range []string{"Hello world", "Ünïcödé 👨‍👩‍👧"} {
		ids := tok.Encode(text, false)
		var b strings.Builder
		for _, id := range ids {
			b.WriteString(d.Next(id))
		}
		b.WriteString(d.Flush())
		assert.Equal(t, tok.Decode(ids, true), b.String())
	}
}
