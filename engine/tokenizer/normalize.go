package tokenizer

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/loomai/loom/engine/tokenizer/internal/rx"
)

// normalizer rewrites a piece in place (HF's Normalizer). Each
// implementation also updates p.z, following how HF aligns the characters
// it produces (see piece).
type normalizer interface {
	normalize(p *piece)
}

type seqNormalizer []normalizer

func (s seqNormalizer) normalize(p *piece) {
	for _, n := range s {
		n.normalize(p)
	}
}

// unicodeNormalizer is NFC, NFD, NFKC or NFKD.
type unicodeNormalizer struct{ form norm.Form }

func (u unicodeNormalizer) normalize(p *piece) {
	if u.form.IsNormalString(p.text) {
		return
	}
	if p.zero {
		// Characters derived from the first original character keep its
		// alignment; normalising that prefix on its own finds where they
		// end, up to the character boundaries that splits can use.
		p.z = len(u.form.String(p.text[:p.z]))
	}
	p.text = u.form.String(p.text)
}

// mapRunes rewrites every rune through f; all output of one input rune
// shares that rune's alignment (HF's transform with changes 0 then +1).
func mapRunes(p *piece, f func(r rune, b *strings.Builder)) {
	var b strings.Builder
	b.Grow(len(p.text))
	z := 0
	for i, r := range p.text {
		f(r, &b)
		if p.zero && i < p.z {
			z = b.Len()
		}
	}
	if p.zero {
		p.z = z
	}
	p.text = b.String()
}

// lowercase is Rust's char::to_lowercase applied per character: the
// simple mapping, plus U+0130 which lowercases to "i̇".
type lowercase struct{}

func (lowercase) normalize(p *piece) {
	ascii := true
	for i := 0; i < len(p.text); i++ {
		if c := p.text[i]; c >= utf8.RuneSelf || c >= 'A' && c <= 'Z' {
			ascii = false
			break
		}
	}
	if ascii {
		return
	}
	mapRunes(p, func(r rune, b *strings.Builder) {
		if r == 0x130 {
			b.WriteString("i\u0307")
			return
		}
		b.WriteRune(unicode.ToLower(r))
	})
}

// stripAccents removes combining marks (categories Mn, Mc, Me).
type stripAccents struct{}

func (stripAccents) normalize(p *piece) {
	mapRunes(p, func(r rune, b *strings.Builder) {
		if !unicode.IsMark(r) {
			b.WriteRune(r)
		}
	})
}

// nmt is HF's Nmt normalizer: drops some control characters and maps some
// others to a space.
type nmt struct{}

func (nmt) normalize(p *piece) {
	mapRunes(p, func(r rune, b *strings.Builder) {
		switch {
		case r >= 0x01 && r <= 0x08, r == 0x0b, r >= 0x0e && r <= 0x1f, r == 0x7f, r == 0x8f, r == 0x9f:
		case r == 0x09, r == 0x0a, r == 0x0c, r == 0x0d, r == 0x1680, r >= 0x200b && r <= 0x200f,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xfeff, r == 0xfffd:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	})
}

// byteLevelNormalizer maps every byte to its GPT-2 byte-level character.
type byteLevelNormalizer struct{}

func (byteLevelNormalizer) normalize(p *piece) { byteLevelMap(p) }

// byteLevelMap replaces each byte of p.text by its byte-level character.
func byteLevelMap(p *piece) {
	identity := true
	for i := 0; i < len(p.text); i++ {
		if c := p.text[i]; c < '!' || c > '~' {
			identity = false
			break
		}
	}
	if identity {
		// Printable ASCII maps to itself.
		return
	}
	var b strings.Builder
	b.Grow(2 * len(p.text))
	z := 0
	for i := 0; i < len(p.text); i++ {
		b.WriteString(byteToChar[p.text[i]])
		if p.zero && i < p.z {
			z = b.Len()
		}
	}
	if p.zero {
		p.z = z
	}
	p.text = b.String()
}

// strip removes leading and/or trailing whitespace.
type strip struct{ left, right bool }

func (s strip) normalize(p *piece) {
	t := p.text
	if s.left {
		t = strings.TrimLeftFunc(t, isWhitespace)
	}
	removedLeft := len(p.text) - len(t)
	if s.right {
		t = strings.TrimRightFunc(t, isWhitespace)
	}
	if p.zero {
		p.z = max(0, min(p.z-removedLeft, len(t)))
	}
	p.text = t
}

// prepend adds a string in front of non-empty text.
type prepend struct{ s string }

func (n prepend) normalize(p *piece) {
	if p.text == "" {
		return
	}
	if p.zero && p.z > 0 {
		p.z += len(n.s)
	}
	p.text = n.s + p.text
}

// replace substitutes every match of a pattern (HF's Replace normalizer).
type replace struct {
	re      *rx.Regexp
	content string
}

func (n replace) normalize(p *piece) { replaceAll(p, n.re, n.content) }

// replaceAll is HF's NormalizedString::replace. Inserted content takes the
// alignment of the last byte of the match it replaces (of the byte before
// the position for an empty match, or the origin at position 0).
func replaceAll(p *piece, re *rx.Regexp, content string) {
	matches := re.FindAll(p.text)
	if len(matches) == 0 {
		return
	}
	var b strings.Builder
	b.Grow(len(p.text) + len(matches)*len(content))
	last := 0
	z, zeroRun := 0, p.zero
	for _, m := range matches {
		b.WriteString(p.text[last:m[0]])
		if zeroRun {
			if m[0] <= p.z {
				z += m[0] - last
			} else {
				z += max(0, p.z-last)
				zeroRun = false
			}
		}
		b.WriteString(content)
		if zeroRun {
			aligned := (m[1] > m[0] && m[1]-1 < p.z) || (m[1] == m[0] && (m[0] == 0 || m[0]-1 < p.z))
			if aligned {
				z += len(content)
			} else {
				zeroRun = false
			}
		}
		last = m[1]
	}
	b.WriteString(p.text[last:])
	if zeroRun {
		z += max(0, min(p.z, len(p.text))-last)
	}
	if p.zero {
		p.z = z
	}
	p.text = b.String()
}
