package tokenizer

import (
	"strings"
	"unicode/utf8"

	"github.com/loomai/loom/engine/tokenizer/internal/rx"
)

// decoder is HF's Decoder::decode_chain: it rewrites a list of token
// strings; the decoded text is the concatenation of the result.
type decoder interface {
	decodeChain(tokens []string) []string
}

type seqDecoder []decoder

func (s seqDecoder) decodeChain(t []string) []string {
	for _, d := range s {
		t = d.decodeChain(t)
	}
	return t
}

// byteLevelDecoder maps byte-level characters back to bytes and decodes the
// whole sequence as UTF-8, replacing invalid bytes as Rust's
// String::from_utf8_lossy does. A token with a character outside the
// byte-level alphabet contributes its own UTF-8 bytes.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(tokens []string) []string {
	var buf []byte
	for _, t := range tokens {
		buf = appendTokenBytes(buf, t)
	}
	return []string{lossyUTF8(buf)}
}

// appendTokenBytes appends the bytes a byte-level token stands for, or
// the token's own UTF-8 when it has a character outside the alphabet.
func appendTokenBytes(buf []byte, t string) []byte {
	start := len(buf)
	for _, r := range t {
		b, in := charToByte(r)
		if !in {
			return append(buf[:start], t...)
		}
		buf = append(buf, b)
	}
	return buf
}

func tokenBytes(t string) []byte { return appendTokenBytes(nil, t) }

// metaspaceDecoder turns the replacement character back into spaces; in the
// first token it is removed instead unless prepend_scheme is "never".
type metaspaceDecoder struct {
	repl   rune
	scheme prependScheme
}

func (m metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		drop := i == 0 && m.scheme != prependNever
		var b strings.Builder
		for _, r := range t {
			switch {
			case r != m.repl:
				b.WriteRune(r)
			case !drop:
				b.WriteByte(' ')
			}
		}
		out[i] = b.String()
	}
	return out
}

// replaceDecoder replaces pattern matches inside each token.
type replaceDecoder struct {
	re      *rx.Regexp
	content string
}

func (r replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	var sc scratch
	for i, t := range tokens {
		var b strings.Builder
		for _, s := range regexSpans(&sc, r.re, t) {
			if s.match {
				b.WriteString(r.content)
			} else {
				b.WriteString(t[s.start:s.end])
			}
		}
		out[i] = b.String()
	}
	return out
}

// byteFallbackDecoder turns runs of "<0xNN>" tokens into text; a run that
// is not valid UTF-8 becomes one U+FFFD per byte.
type byteFallbackDecoder struct{}

// parseByteToken recognises "<0xNN>" exactly as HF does (u8::from_str_radix
// on the two characters, which also accepts "+N").
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	h := t[3:5]
	if h[0] == '+' {
		h = h[1:]
	}
	var v byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + c - '0'
		case c >= 'a' && c <= 'f':
			v = v*16 + c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = v*16 + c - 'A' + 10
		default:
			return 0, false
		}
	}
	return v, true
}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\ufffd")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

// stripDecoder removes up to start leading and stop trailing occurrences of
// a character from each token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (s stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		chars := []rune(t)
		lo := 0
		for k := 0; k < s.start && k < len(chars) && chars[k] == s.content; k++ {
			lo = k + 1
		}
		hi := len(chars)
		for k := 0; k < s.stop && len(chars)-k-1 >= 0 && chars[len(chars)-k-1] == s.content; k++ {
			hi = len(chars) - k - 1
		}
		if hi < lo {
			// HF panics here; an empty token is the only sensible result.
			hi = lo
		}
		out[i] = string(chars[lo:hi])
	}
	return out
}

// bpeDecoder replaces the end-of-word suffix with a space (nothing for the
// last token).
type bpeDecoder struct{ suffix string }

func (d bpeDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal invalid
// subsequence (the longest prefix of a well-formed sequence, or one byte)
// becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || w > 1 {
			sb.Write(b[i : i+w])
			i += w
			continue
		}
		i += invalidLen(b[i:])
		sb.WriteString("\ufffd")
	}
	return sb.String()
}

// invalidLen is the length of the maximal invalid subsequence at the start
// of b, which starts with a byte that does not begin a valid character.
func invalidLen(b []byte) int {
	c := b[0]
	var width int
	lo, hi := byte(0x80), byte(0xbf)
	switch {
	case c >= 0xc2 && c <= 0xdf:
		width = 2
	case c == 0xe0:
		width, lo = 3, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		width = 3
	case c == 0xed:
		width, hi = 3, 0x9f
	case c == 0xf0:
		width, lo = 4, 0x90
	case c >= 0xf1 && c <= 0xf3:
		width = 4
	case c == 0xf4:
		width, hi = 4, 0x8f
	default:
		return 1
	}
	n := 1
	for k := 1; k < width && k < len(b); k++ {
		x := b[k]
		if k == 1 && (x < lo || x > hi) || k > 1 && (x < 0x80 || x > 0xbf) {
			break
		}
		n++
	}
	return n
}

// byteToChar is GPT-2's byte-to-unicode table (bytes_char in HF).
var byteToChar [256]string

// charToByteTab inverts byteToChar for the runes U+0000..U+01FF it uses.
var charToByteTab [512]int16

func init() {
	for i := range charToByteTab {
		charToByteTab[i] = -1
	}
	n := 0
	for b := 0; b < 256; b++ {
		r := rune(b)
		printable := b >= '!' && b <= '~' || b >= 0xa1 && b <= 0xac || b >= 0xae && b <= 0xff
		if !printable {
			r = rune(256 + n)
			n++
		}
		byteToChar[b] = string(r)
		charToByteTab[r] = int16(b)
	}
}

func charToByte(r rune) (byte, bool) {
	if r < 0 || int(r) >= len(charToByteTab) || charToByteTab[r] < 0 {
		return 0, false
	}
	return byte(charToByteTab[r]), true
}
