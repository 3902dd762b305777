package tokenizer

import (
	"strings"
	"unicode/utf8"

	"github.com/loomai/loom/engine/tokenizer/internal/rx"
)

// preTokenizer splits pieces further (HF's PreTokenizer). It appends the
// resulting pieces of one input piece to out.
type preTokenizer interface {
	preTokenize(out []piece, p piece, sc *scratch) []piece
}

// runPreTokenizer applies the pre-tokenizer stages to every piece of in
// that is not an added token and returns all resulting pieces.
func runPreTokenizer(stages []preTokenizer, in []piece, sc *scratch) []piece {
	out := make([]piece, 0, 2*len(in))
	for _, p := range in {
		if p.id >= 0 {
			out = append(out, p)
			continue
		}
		out = append(out, sc.preTokenizePiece(stages, p)...)
	}
	return out
}

// preTokenizePiece runs the pre-tokenizer stages (a flattened Sequence, as
// HF applies its members one after the other) on one piece. The result
// lives in sc and is valid until the next call.
func (sc *scratch) preTokenizePiece(stages []preTokenizer, p piece) []piece {
	cur := append(sc.stageA[:0], p)
	next := sc.stageB[:0]
	for _, st := range stages {
		next = next[:0]
		for _, q := range cur {
			next = st.preTokenize(next, q, sc)
		}
		cur, next = next, cur
	}
	sc.stageA, sc.stageB = cur, next
	return cur
}

// splitPreTokenizer is HF's Split: a regex or literal pattern, a delimiter
// behaviour and an optional inversion of what counts as a match.
type splitPreTokenizer struct {
	re     *rx.Regexp
	b      behavior
	invert bool
}

func (s splitPreTokenizer) preTokenize(out []piece, p piece, sc *scratch) []piece {
	sp := regexSpans(sc, s.re, p.text)
	if s.invert {
		sp = invertSpans(sp)
	}
	return splitPiece(out, p, sp, s.b, sc)
}

// funcPreTokenizer splits on a character predicate (Digits, Punctuation,
// WhitespaceSplit, CharDelimiterSplit).
type funcPreTokenizer struct {
	fn func(rune) bool
	b  behavior
}

func (f funcPreTokenizer) preTokenize(out []piece, p piece, sc *scratch) []piece {
	return splitPiece(out, p, funcSpans(sc, f.fn, p.text), f.b, sc)
}

// whitespacePreTokenizer is HF's Whitespace: it keeps the runs matched by
// Rust's `\w+|[^\w\s]+` and drops whitespace.
type whitespacePreTokenizer struct{}

func (whitespacePreTokenizer) preTokenize(out []piece, p piece, _ *scratch) []piece {
	const (
		space = iota
		word
		other
	)
	kind := func(r rune) int {
		switch {
		case isRustWord(r):
			return word
		case isWhitespace(r):
			return space
		}
		return other
	}
	start, cur := 0, -1
	for i, r := range p.text {
		k := kind(r)
		if k != cur {
			if cur == word || cur == other {
				out = append(out, p.sub(start, i))
			}
			start, cur = i, k
		}
	}
	if cur == word || cur == other {
		out = append(out, p.sub(start, len(p.text)))
	}
	return out
}

// bertPreTokenizer splits on whitespace (removed) and isolates punctuation.
type bertPreTokenizer struct{}

func (bertPreTokenizer) preTokenize(out []piece, p piece, sc *scratch) []piece {
	words := splitPiece(nil, p, funcSpans(sc, isWhitespace, p.text), removed, sc)
	for _, w := range words {
		out = splitPiece(out, w, funcSpans(sc, isPunc, w.text), isolated, sc)
	}
	return out
}

// gpt2Pattern is the split pattern of GPT-2, used by ByteLevel when
// use_regex is set.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

var gpt2Regexp = mustCompile(gpt2Pattern)

func mustCompile(p string) *rx.Regexp {
	re, err := rx.Compile(p)
	if err != nil {
		panic(err) // a constant pattern; covered by tests
	}
	return re
}

// byteLevelPreTokenizer is HF's ByteLevel pre-tokenizer: optional prefix
// space, optional GPT-2 split, then the byte-to-character mapping.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	useRegex       bool
}

func (b byteLevelPreTokenizer) preTokenize(out []piece, p piece, sc *scratch) []piece {
	if b.addPrefixSpace && !strings.HasPrefix(p.text, " ") {
		prepend{" "}.normalize(&p)
	}
	start := len(out)
	if b.useRegex {
		out = splitPiece(out, p, regexSpans(sc, gpt2Regexp, p.text), isolated, sc)
	} else if p.text != "" {
		out = append(out, p)
	}
	for i := start; i < len(out); i++ {
		byteLevelMap(&out[i])
	}
	return out
}

// prependScheme is Metaspace's prepend_scheme.
type prependScheme uint8

const (
	prependAlways prependScheme = iota
	prependFirst
	prependNever
)

// metaspacePreTokenizer is HF's Metaspace: spaces become the replacement
// character, which is prepended per the scheme, then optionally split on.
type metaspacePreTokenizer struct {
	repl   rune
	scheme prependScheme
	split  bool
	space  *rx.Regexp // a literal " "
}

func (m metaspacePreTokenizer) preTokenize(out []piece, p piece, sc *scratch) []piece {
	replaceAll(&p, m.space, string(m.repl))
	r, _ := utf8.DecodeRuneInString(p.text)
	starts := p.text != "" && r == m.repl
	switch m.scheme {
	case prependAlways:
		if !starts {
			prepend{string(m.repl)}.normalize(&p)
		}
	case prependFirst:
		if !starts && p.zero {
			prepend{string(m.repl)}.normalize(&p)
		}
	}
	if !m.split {
		if p.text == "" {
			return out
		}
		return append(out, p)
	}
	repl := m.repl
	return splitPiece(out, p, funcSpans(sc, func(c rune) bool { return c == repl }, p.text), mergedWithNext, sc)
}
