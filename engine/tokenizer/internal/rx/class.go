package rx

import (
	"strings"
	"unicode"
)

type rng struct{ lo, hi rune }

type pred struct{ fn func(rune) bool }

// class is a bracket expression or an escape class. A rune is a member when
// it is in one of the ranges, satisfies one of the predicates or is a member
// of one of the nested classes; neg inverts the result.
type class struct {
	ranges []rng
	preds  []pred
	subs   []*class
	neg    bool
}

func (c *class) contains(r rune) bool {
	in := c.inRanges(r)
	if !in {
		for _, p := range c.preds {
			if p.fn(r) {
				in = true
				break
			}
		}
	}
	if !in {
		for _, s := range c.subs {
			if s.contains(r) {
				in = true
				break
			}
		}
	}
	return in != c.neg
}

// containsFold is contains under case-insensitive matching of a bracket
// expression: as in Oniguruma, the whole set (properties included) is closed
// under simple case folding before a negation applies. Escape classes
// outside brackets (\p{Lu}, \w, ...) are not folded; see escapeAtom.
func (c *class) containsFold(r rune) bool {
	if c.contains(r) != c.neg {
		return !c.neg
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if c.contains(f) != c.neg {
			return !c.neg
		}
	}
	return c.neg
}

func (c *class) inRanges(r rune) bool {
	for _, g := range c.ranges {
		if r >= g.lo && r <= g.hi {
			return true
		}
	}
	return false
}

// matcher is a compiled class: an ASCII bitmap plus the full test for
// other runes.
type matcher struct {
	ascii [2]uint64
	slow  func(rune) bool
}

func (m *matcher) match(r rune) bool {
	if r < 128 {
		return m.ascii[r>>6]&(1<<(uint(r)&63)) != 0
	}
	return m.slow(r)
}

func newMatcher(fn func(rune) bool) *matcher {
	m := &matcher{slow: fn}
	for r := rune(0); r < 128; r++ {
		if fn(r) {
			m.ascii[r>>6] |= 1 << (uint(r) & 63)
		}
	}
	return m
}

// isSpace is Oniguruma's Unicode \s: U+0009..U+000D, U+0085 and the Zs, Zl
// and Zp categories (the same set as the White_Space property).
func isSpace(r rune) bool {
	switch {
	case r >= 0x09 && r <= 0x0d, r == 0x20, r == 0x85:
		return true
	case r < 0x80:
		return false
	}
	return unicode.Is(unicode.Zs, r) || r == 0x2028 || r == 0x2029
}

// IsSpace reports whether r is whitespace for Oniguruma's \s (and for Rust's
// char::is_whitespace, which has the same set).
func IsSpace(r rune) bool { return isSpace(r) }

// isDigit is Oniguruma's Unicode \d: the Nd category.
func isDigit(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.Is(unicode.Nd, r)
}

// isWord is Oniguruma's Unicode \w: letters, marks, numbers and connector
// punctuation.
func isWord(r rune) bool {
	if r < 0x80 {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_'
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r)
}

func isAlphabetic(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

var posixClasses = map[string]func(rune) bool{
	"alpha": isAlphabetic,
	"digit": isDigit,
	"alnum": func(r rune) bool { return isAlphabetic(r) || isDigit(r) },
	"upper": func(r rune) bool { return unicode.IsUpper(r) || unicode.Is(unicode.Other_Uppercase, r) },
	"lower": func(r rune) bool { return unicode.IsLower(r) || unicode.Is(unicode.Other_Lowercase, r) },
	"space": isSpace,
	"blank": func(r rune) bool { return r == '\t' || unicode.Is(unicode.Zs, r) },
	"cntrl": func(r rune) bool { return unicode.Is(unicode.Cc, r) },
	"punct": func(r rune) bool {
		return unicode.IsPunct(r) || (r < 0x80 && unicode.IsSymbol(r))
	},
	"xdigit": func(r rune) bool { return r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' },
	"word":   isWord,
}

// categoryAliases maps Unicode long general-category names, in the loose
// form used for lookups, to their short names.
var categoryAliases = map[string]string{
	"letter": "L", "casedletter": "LC", "uppercaseletter": "Lu", "lowercaseletter": "Ll",
	"titlecaseletter": "Lt", "modifierletter": "Lm", "otherletter": "Lo",
	"mark": "M", "combiningmark": "M", "nonspacingmark": "Mn", "spacingmark": "Mc", "enclosingmark": "Me",
	"number": "N", "decimalnumber": "Nd", "letternumber": "Nl", "othernumber": "No",
	"punctuation": "P", "connectorpunctuation": "Pc", "dashpunctuation": "Pd",
	"openpunctuation": "Ps", "closepunctuation": "Pe", "initialpunctuation": "Pi",
	"finalpunctuation": "Pf", "otherpunctuation": "Po",
	"symbol": "S", "mathsymbol": "Sm", "currencysymbol": "Sc", "modifiersymbol": "Sk", "othersymbol": "So",
	"separator": "Z", "spaceseparator": "Zs", "lineseparator": "Zl", "paragraphseparator": "Zp",
	"other": "C", "control": "Cc", "format": "Cf", "surrogate": "Cs", "privateuse": "Co", "unassigned": "Cn",
}

// looseName normalises a property name the way Oniguruma compares them:
// case-insensitively, ignoring spaces, hyphens and underscores.
func looseName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == ' ' || r == '-' || r == '_' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// lookupProperty resolves a \p{...} name: general categories (short or long
// names), scripts, and a few binary properties. It returns nil for names rx
// does not know.
func lookupProperty(name string) func(rune) bool {
	l := looseName(name)
	switch l {
	case "any":
		return func(rune) bool { return true }
	case "assigned":
		return func(r rune) bool { return !isUnassigned(r) }
	case "ascii":
		return func(r rune) bool { return r < 0x80 }
	case "alphabetic", "alpha":
		return isAlphabetic
	case "whitespace", "space":
		return isSpace
	case "word":
		return isWord
	case "cn", "unassigned":
		return isUnassigned
	case "lc", "casedletter":
		return func(r rune) bool { return unicode.In(r, unicode.Lu, unicode.Ll, unicode.Lt) }
	case "c", "other":
		return func(r rune) bool { return unicode.In(r, unicode.C) || isUnassigned(r) }
	}
	if short, ok := categoryAliases[l]; ok {
		l = strings.ToLower(short)
	}
	for cat, tab := range unicode.Categories {
		if strings.ToLower(cat) == l {
			return func(r rune) bool { return unicode.Is(tab, r) }
		}
	}
	for sc, tab := range unicode.Scripts {
		if looseName(sc) == l {
			return func(r rune) bool { return unicode.Is(tab, r) }
		}
	}
	return nil
}

// isUnassigned reports whether r has no general category in Go's tables
// (category Cn).
func isUnassigned(r rune) bool {
	for _, tab := range unicode.Categories {
		if len(tab.R16) == 0 && len(tab.R32) == 0 {
			continue
		}
		if unicode.Is(tab, r) {
			return false
		}
	}
	return true
}
