package tokenizer

import (
	"unicode"
	"unicode/utf8"

	"github.com/loomai/loom/engine/tokenizer/internal/rx"
)

// piece is one split of the input on its way through the pipeline; it is
// HF's NormalizedString reduced to what token ids depend on.
//
// HF tracks, for every normalized byte, the span of the original text it
// came from. The only consumer of that alignment that changes ids is the
// Metaspace pre-tokenizer with prepend_scheme "first", which prepends only
// to a split whose original offset is 0. zero and z carry exactly that
// information: zero says the split starts at original offset 0, and z is the
// number of leading bytes of text whose alignment starts at original offset
// 0, so that a sub-split at byte a keeps zero exactly when a < z.
type piece struct {
	text string
	zero bool
	z    int
	id   int // >= 0 for an added token, which skips the rest of the pipeline
}

// newPiece is a fresh piece of original text starting at original offset
// start: every byte of its first character aligns with that character.
func newPiece(text string, start int) piece {
	p := piece{text: text, zero: start == 0, id: -1}
	if p.zero && text != "" {
		_, p.z = utf8.DecodeRuneInString(text)
	}
	return p
}

// sub returns the slice [a, b) of p as HF's NormalizedString::slice does.
func (p piece) sub(a, b int) piece {
	q := piece{text: p.text[a:b], id: -1}
	if p.zero && a < p.z {
		q.zero = true
		q.z = min(p.z-a, b-a)
	}
	return q
}

// span is one part of a pattern search: [start, end) and whether it is a
// match (HF's find_matches output, which covers the whole string).
type span struct {
	start, end int
	match      bool
}

// scratch holds buffers reused across the splits of one Encode call.
type scratch struct {
	spans          []span
	parts          []part
	matches        [][2]int
	stageA, stageB []piece
}

// regexSpans is HF's Pattern::find_matches for a regex. The result lives in
// sc and is valid until the next call.
func regexSpans(sc *scratch, re *rx.Regexp, s string) []span {
	out := sc.spans[:0]
	defer func() { sc.spans = out }()
	if s == "" {
		out = append(out, span{0, 0, false})
		return out
	}
	sc.matches = re.AppendAll(sc.matches[:0], s)
	prev := 0
	for _, m := range sc.matches {
		if prev != m[0] {
			out = append(out, span{prev, m[0], false})
		}
		out = append(out, span{m[0], m[1], true})
		prev = m[1]
	}
	if prev != len(s) {
		out = append(out, span{prev, len(s), false})
	}
	return out
}

// funcSpans is HF's Pattern::find_matches for a char predicate: every
// matching character is its own match. The result lives in sc and is valid
// until the next call.
func funcSpans(sc *scratch, fn func(rune) bool, s string) []span {
	out := sc.spans[:0]
	defer func() { sc.spans = out }()
	if s == "" {
		out = append(out, span{0, 0, false})
		return out
	}
	last := 0
	for i, r := range s {
		if fn(r) {
			if last < i {
				out = append(out, span{last, i, false})
			}
			w := utf8.RuneLen(r)
			if w < 0 {
				w = 1
			}
			out = append(out, span{i, i + w, true})
			last = i + w
		}
	}
	if len(s) > last {
		out = append(out, span{last, len(s), false})
	}
	return out
}

func invertSpans(sp []span) []span {
	for i := range sp {
		sp[i].match = !sp[i].match
	}
	return sp
}

// behavior is HF's SplitDelimiterBehavior.
type behavior uint8

const (
	removed behavior = iota
	isolated
	mergedWithPrevious
	mergedWithNext
	contiguous
)

// part is a span after applying a delimiter behaviour.
type part struct {
	start, end int
	remove     bool
}

// splitPiece is HF's NormalizedString::split: it applies the delimiter
// behaviour to the spans and appends the non-empty resulting slices to out.
func splitPiece(out []piece, p piece, sp []span, b behavior, sc *scratch) []piece {
	parts := sc.parts[:0]
	defer func() { sc.parts = parts }()
	switch b {
	case isolated:
		for _, s := range sp {
			parts = append(parts, part{s.start, s.end, false})
		}
	case removed:
		for _, s := range sp {
			parts = append(parts, part{s.start, s.end, s.match})
		}
	case contiguous:
		prev := false
		for _, s := range sp {
			if s.match == prev && len(parts) > 0 {
				parts[len(parts)-1].end = s.end
			} else {
				parts = append(parts, part{s.start, s.end, false})
			}
			prev = s.match
		}
	case mergedWithPrevious:
		prev := false
		for _, s := range sp {
			if s.match && !prev && len(parts) > 0 {
				parts[len(parts)-1].end = s.end
			} else {
				parts = append(parts, part{s.start, s.end, false})
			}
			prev = s.match
		}
	case mergedWithNext:
		prev := false
		for i := len(sp) - 1; i >= 0; i-- {
			s := sp[i]
			if s.match && !prev && len(parts) > 0 {
				parts[len(parts)-1].start = s.start
			} else {
				parts = append(parts, part{s.start, s.end, false})
			}
			prev = s.match
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	for _, q := range parts {
		if !q.remove && q.end > q.start {
			out = append(out, p.sub(q.start, q.end))
		}
	}
	return out
}

// isWhitespace is Rust's char::is_whitespace (the White_Space property).
func isWhitespace(r rune) bool { return rx.IsSpace(r) }

// isNumeric is Rust's char::is_numeric (categories Nd, Nl and No).
func isNumeric(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

// isPunc is HF's punctuation test: ASCII punctuation (which includes ASCII
// symbols such as $ + < = > ^ ` | ~) or a Unicode P* category.
func isPunc(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= '!' && r <= '/' || r >= ':' && r <= '@' || r >= '[' && r <= '`' || r >= '{' && r <= '~'
	}
	return unicode.IsPunct(r)
}

// isRustWord is the \w of Rust's regex crate, used by HF for added-token
// single_word checks and the Whitespace pre-tokenizer: Alphabetic, marks,
// decimal numbers, connector punctuation and Join_Control.
func isRustWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r) ||
		unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) || r == 0x200c || r == 0x200d
}
