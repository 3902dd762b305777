// Package rx is a small backtracking regular-expression engine with the
// semantics of Oniguruma (Ruby syntax, UTF-8), the engine Hugging Face
// tokenizers uses for the `Split` pre-tokenizer and `Replace` normalizer
// patterns stored in tokenizer.json.
//
// Go's regexp package cannot be used for these patterns: they rely on
// lookahead (`\s+(?!\S)`), Oniguruma's Unicode classes and case folding, and
// Ruby-style anchors. rx implements the subset of Oniguruma syntax that
// tokenizer files use and rejects everything else with ErrUnsupported:
//
//   - literals and escapes: \t \n \r \f \v \a \e \xHH \x{H..} \uHHHH \0oo,
//     escaped punctuation;
//   - classes: [...] with ranges, negation, nested classes (union), POSIX
//     brackets, \s \S \d \D \w \W \h \H and \p{..} \P{..} \p{^..};
//   - . (no newline unless (?m)), ^ $ (line anchors), \A \z \Z \b \B;
//   - groups (...), (?:...), named groups (treated as non-capturing),
//     (?imx-imx) and (?imx-imx:...), atomic (?>...), lookahead (?=...) (?!...),
//     bounded lookbehind (?<=...) (?<!...);
//   - quantifiers * + ? {n} {n,} {n,m} {,m}, lazy (suffix ?) and possessive
//     (suffix + on * + ?; like Oniguruma's Ruby syntax, {n,m}+ is a repeat of
//     {n,m}, not a possessive interval).
//
// Case-insensitive matching folds single code points (s, S and ſ; k, K and
// the Kelvin sign) as Oniguruma does, but not multi-character folds such as
// ß against "ss". Bracket classes are folded as a whole; escape classes
// outside brackets (\p{Lu}) are not, again as in Oniguruma.
//
// Matching works on byte offsets of valid UTF-8 strings and never panics.
// Backtracking is bounded: a search that takes too many steps is re-run with
// memoisation of failed (instruction, position) states, so the cost of one
// search is at most proportional to program size times input length.
package rx

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrSyntax reports a malformed pattern.
var ErrSyntax = errors.New("rx: syntax error")

// ErrUnsupported reports Oniguruma syntax that rx does not implement.
var ErrUnsupported = errors.New("rx: unsupported regex feature")

// MaxPatternLen bounds the pattern source length in bytes.
const MaxPatternLen = 16 << 10

// maxRepeat bounds the counts of {n,m} quantifiers.
const maxRepeat = 1000

// maxNodes bounds the size of the expanded pattern (after counted repeats).
const maxNodes = 1 << 16

// maxDepth bounds group nesting.
const maxDepth = 200

type nodeKind uint8

const (
	nLit    nodeKind = iota // one rune (or its case-fold orbit)
	nClass                  // a character class
	nAny                    // any rune but \n
	nAnyNL                  // any rune
	nConcat                 // sequence of subs
	nAlt                    // alternation of subs, leftmost first
	nRepeat                 // sub repeated min..max
	nAtomic                 // (?>sub)
	nLook                   // lookaround
	nAssert                 // zero-width assertion
	nEmpty                  // matches the empty string
)

type repKind uint8

const (
	greedy repKind = iota
	lazy
	possessive
)

type assertKind uint8

const (
	aBOL        assertKind = iota // ^
	aEOL                          // $
	aBeginText                    // \A
	aEndText                      // \z
	aEndTextOpt                   // \Z
	aWordB                        // \b
	aNotWordB                     // \B
)

type node struct {
	kind     nodeKind
	r        rune    // nLit
	fold     bool    // nLit / nClass: case-insensitive
	cls      *class  // nClass
	subs     []*node // nConcat, nAlt, single sub for nRepeat/nAtomic/nLook
	min, max int     // nRepeat; max < 0 means unbounded
	rep      repKind // nRepeat
	behind   bool    // nLook
	neg      bool    // nLook
	assert   assertKind
}

type flags struct {
	i, m, x bool
}

type parser struct {
	src   string
	pos   int
	depth int
	nodes int
}

func parse(src string) (*node, error) {
	if len(src) > MaxPatternLen {
		return nil, fmt.Errorf("%w: pattern is %d bytes, limit %d", ErrUnsupported, len(src), MaxPatternLen)
	}
	if !utf8.ValidString(src) {
		return nil, fmt.Errorf("%w: pattern is not valid UTF-8", ErrSyntax)
	}
	p := &parser{src: src}
	n, err := p.alt(flags{})
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, p.errf(ErrSyntax, "unmatched ')'")
	}
	return n, nil
}

func (p *parser) errf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s at offset %d", kind, fmt.Sprintf(format, args...), p.pos)
}

func (p *parser) newNode(n node) (*node, error) {
	p.nodes++
	if p.nodes > maxNodes {
		return nil, p.errf(ErrUnsupported, "pattern too large")
	}
	return &n, nil
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func (p *parser) next() rune {
	r, w := utf8.DecodeRuneInString(p.src[p.pos:])
	p.pos += w
	return r
}

// alt parses an alternation up to ')' or the end.
func (p *parser) alt(f flags) (*node, error) {
	var alts []*node
	for {
		c, nf, err := p.concat(f)
		if err != nil {
			return nil, err
		}
		alts = append(alts, c)
		// Inline flag groups such as (?i) extend to the end of the
		// enclosing group, across alternatives, as in Oniguruma.
		f = nf
		if p.eof() || p.peek() != '|' {
			break
		}
		p.pos++
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return p.newNode(node{kind: nAlt, subs: alts})
}

// concat parses a sequence of quantified atoms up to '|' or ')'.
func (p *parser) concat(f flags) (*node, flags, error) {
	var items []*node
	for !p.eof() {
		c := p.peek()
		if c == '|' || c == ')' {
			break
		}
		if f.x && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			p.pos++
			continue
		}
		if f.x && c == '#' {
			for !p.eof() && p.peek() != '\n' {
				p.pos++
			}
			continue
		}
		atom, nf, isFlag, err := p.atom(f)
		if err != nil {
			return nil, f, err
		}
		if isFlag {
			// (?imx) switches flags for the rest of the group.
			f = nf
			continue
		}
		atom, err = p.quantifiers(atom)
		if err != nil {
			return nil, f, err
		}
		items = append(items, atom)
	}
	switch len(items) {
	case 0:
		n, err := p.newNode(node{kind: nEmpty})
		return n, f, err
	case 1:
		return items[0], f, nil
	}
	n, err := p.newNode(node{kind: nConcat, subs: items})
	return n, f, err
}

// quantifiers applies any quantifiers that follow an atom.
func (p *parser) quantifiers(atom *node) (*node, error) {
	for !p.eof() {
		start := p.pos
		min, max := -1, -1
		switch p.peek() {
		case '*':
			p.pos++
			min, max = 0, -1
		case '+':
			p.pos++
			min, max = 1, -1
		case '?':
			p.pos++
			min, max = 0, 1
		case '{':
			lo, hi, ok, err := p.interval()
			if err != nil {
				return nil, err
			}
			if !ok {
				// Not an interval: '{' is a literal, handled by atom.
				return atom, nil
			}
			min, max = lo, hi
			if atom.kind == nAssert || atom.kind == nLook {
				return nil, p.errf(ErrSyntax, "target of repeat operator is invalid")
			}
			rk := greedy
			if !p.eof() && p.peek() == '?' {
				p.pos++
				rk = lazy
			}
			n, err := p.newNode(node{kind: nRepeat, subs: []*node{atom}, min: min, max: max, rep: rk})
			if err != nil {
				return nil, err
			}
			atom = n
			continue
		default:
			return atom, nil
		}
		if atom.kind == nAssert || atom.kind == nLook {
			p.pos = start
			return nil, p.errf(ErrSyntax, "target of repeat operator is invalid")
		}
		rk := greedy
		if !p.eof() {
			switch p.peek() {
			case '?':
				p.pos++
				rk = lazy
			case '+':
				p.pos++
				rk = possessive
			}
		}
		n, err := p.newNode(node{kind: nRepeat, subs: []*node{atom}, min: min, max: max, rep: rk})
		if err != nil {
			return nil, err
		}
		atom = n
	}
	return atom, nil
}

// interval parses {n}, {n,}, {n,m} or {,m} at p.pos. When the text is not a
// valid interval it leaves p.pos unchanged and returns ok=false, in which case
// Oniguruma treats '{' as a literal.
func (p *parser) interval() (lo, hi int, ok bool, err error) {
	start := p.pos
	s := p.src[p.pos+1:]
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return 0, 0, false, nil
	}
	body := s[:end]
	a, b, hasComma := strings.Cut(body, ",")
	digits := func(t string) bool {
		if t == "" {
			return true
		}
		for i := 0; i < len(t); i++ {
			if t[i] < '0' || t[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(a) || !digits(b) || (a == "" && (!hasComma || b == "")) {
		return 0, 0, false, nil
	}
	num := func(t string) (int, error) {
		if len(t) > 6 {
			return 0, p.errf(ErrUnsupported, "repeat count too large")
		}
		v, _ := strconv.Atoi(t)
		if v > maxRepeat {
			return 0, p.errf(ErrUnsupported, "repeat count %d above %d", v, maxRepeat)
		}
		return v, nil
	}
	if a == "" {
		lo = 0
	} else if lo, err = num(a); err != nil {
		return 0, 0, false, err
	}
	switch {
	case !hasComma:
		hi = lo
	case b == "":
		hi = -1
	default:
		if hi, err = num(b); err != nil {
			return 0, 0, false, err
		}
		if hi < lo {
			p.pos = start
			return 0, 0, false, p.errf(ErrSyntax, "upper bound must be greater than lower bound")
		}
	}
	p.pos += 1 + end + 1
	return lo, hi, true, nil
}

// atom parses one atom. isFlag reports an inline flag group (?imx) that
// changed the flags for the rest of the enclosing group.
func (p *parser) atom(f flags) (n *node, nf flags, isFlag bool, err error) {
	c := p.next()
	switch c {
	case '(':
		return p.group(f)
	case '[':
		cls, err := p.class(f)
		if err != nil {
			return nil, f, false, err
		}
		n, err = p.newNode(node{kind: nClass, cls: cls, fold: f.i})
		return n, f, false, err
	case '.':
		if f.m {
			n, err = p.newNode(node{kind: nAnyNL})
		} else {
			n, err = p.newNode(node{kind: nAny})
		}
		return n, f, false, err
	case '^':
		n, err = p.newNode(node{kind: nAssert, assert: aBOL})
		return n, f, false, err
	case '$':
		n, err = p.newNode(node{kind: nAssert, assert: aEOL})
		return n, f, false, err
	case '\\':
		return p.escapeAtom(f)
	case '*', '+', '?':
		p.pos--
		return nil, f, false, p.errf(ErrSyntax, "target of repeat operator is not specified")
	case '{':
		// A '{' that does not start a valid interval is a literal.
		p.pos--
		if _, _, ok, ierr := p.interval(); ierr != nil || ok {
			return nil, f, false, p.errf(ErrSyntax, "target of repeat operator is not specified")
		}
		p.pos++
	}
	n, err = p.lit(c, f)
	return n, f, false, err
}

func (p *parser) lit(c rune, f flags) (*node, error) {
	return p.newNode(node{kind: nLit, r: c, fold: f.i && hasFold(c)})
}

func hasFold(r rune) bool { return unicode.SimpleFold(r) != r }

func (p *parser) group(f flags) (*node, flags, bool, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, f, false, p.errf(ErrUnsupported, "groups nested too deeply")
	}
	var n *node
	var err error
	if p.eof() || p.peek() != '?' {
		n, err = p.groupBody(f)
		return n, f, false, err
	}
	p.pos++
	if p.eof() {
		return nil, f, false, p.errf(ErrSyntax, "end pattern in group")
	}
	c := p.next()
	switch c {
	case ':':
		n, err = p.groupBody(f)
		return n, f, false, err
	case '>':
		body, err := p.groupBody(f)
		if err != nil {
			return nil, f, false, err
		}
		n, err = p.newNode(node{kind: nAtomic, subs: []*node{body}})
		return n, f, false, err
	case '=', '!':
		body, err := p.groupBody(f)
		if err != nil {
			return nil, f, false, err
		}
		n, err = p.newNode(node{kind: nLook, subs: []*node{body}, neg: c == '!'})
		return n, f, false, err
	case '<':
		if p.eof() {
			return nil, f, false, p.errf(ErrSyntax, "end pattern in group")
		}
		d := p.peek()
		if d == '=' || d == '!' {
			p.pos++
			body, err := p.groupBody(f)
			if err != nil {
				return nil, f, false, err
			}
			if _, ok := width(body); !ok {
				return nil, f, false, p.errf(ErrUnsupported, "lookbehind of unbounded length")
			}
			n, err = p.newNode(node{kind: nLook, subs: []*node{body}, neg: d == '!', behind: true})
			return n, f, false, err
		}
		// Named group (?<name>...): matched like a plain group.
		if err := p.groupName('>'); err != nil {
			return nil, f, false, err
		}
		n, err = p.groupBody(f)
		return n, f, false, err
	case '\'':
		if err := p.groupName('\''); err != nil {
			return nil, f, false, err
		}
		n, err = p.groupBody(f)
		return n, f, false, err
	case '#':
		for !p.eof() && p.peek() != ')' {
			p.pos++
		}
		if p.eof() {
			return nil, f, false, p.errf(ErrSyntax, "end pattern in group")
		}
		p.pos++
		n, err = p.newNode(node{kind: nEmpty})
		return n, f, false, err
	}
	// Option group: (?imx-imx) or (?imx-imx:...).
	p.pos -= utf8.RuneLen(c)
	nf := f
	on := true
	for {
		if p.eof() {
			return nil, f, false, p.errf(ErrSyntax, "end pattern in group")
		}
		c := p.next()
		switch c {
		case 'i':
			nf.i = on
		case 'm':
			nf.m = on
		case 'x':
			nf.x = on
		case '-':
			if !on {
				return nil, f, false, p.errf(ErrSyntax, "invalid group option")
			}
			on = false
		case ')':
			return nil, nf, true, nil
		case ':':
			n, err = p.groupBody(nf)
			return n, f, false, err
		default:
			return nil, f, false, p.errf(ErrUnsupported, "group option %q", c)
		}
	}
}

func (p *parser) groupName(end byte) error {
	i := strings.IndexByte(p.src[p.pos:], end)
	if i <= 0 {
		return p.errf(ErrSyntax, "invalid group name")
	}
	p.pos += i + 1
	return nil
}

// groupBody parses an alternation and the closing ')'.
func (p *parser) groupBody(f flags) (*node, error) {
	n, err := p.alt(f)
	if err != nil {
		return nil, err
	}
	if p.eof() || p.peek() != ')' {
		return nil, p.errf(ErrSyntax, "end pattern with unmatched parenthesis")
	}
	p.pos++
	return n, nil
}

// escapeAtom parses the escape after '\' outside a class.
func (p *parser) escapeAtom(f flags) (*node, flags, bool, error) {
	if p.eof() {
		return nil, f, false, p.errf(ErrSyntax, "end pattern at escape")
	}
	c := p.peek()
	var a assertKind
	switch c {
	case 'A':
		a = aBeginText
	case 'z':
		a = aEndText
	case 'Z':
		a = aEndTextOpt
	case 'b':
		a = aWordB
	case 'B':
		a = aNotWordB
	default:
		cls, r, isClass, err := p.escape(false)
		if err != nil {
			return nil, f, false, err
		}
		if isClass {
			// Oniguruma does not case-fold escape classes outside
			// brackets: (?i)\p{Lu} matches upper case only.
			n, err := p.newNode(node{kind: nClass, cls: cls})
			return n, f, false, err
		}
		n, err := p.lit(r, f)
		return n, f, false, err
	}
	p.pos++
	n, err := p.newNode(node{kind: nAssert, assert: a})
	return n, f, false, err
}

// escape parses an escape sequence (after '\') that denotes either a class
// (\s, \p{L}, ...) or a single rune. inClass selects the meaning of \b
// (backspace inside a class).
func (p *parser) escape(inClass bool) (cls *class, r rune, isClass bool, err error) {
	c := p.next()
	switch c {
	case 's', 'S', 'd', 'D', 'w', 'W', 'h', 'H':
		cls = &class{}
		switch c {
		case 's', 'S':
			cls.preds = append(cls.preds, pred{fn: isSpace})
		case 'd', 'D':
			cls.preds = append(cls.preds, pred{fn: isDigit})
		case 'w', 'W':
			cls.preds = append(cls.preds, pred{fn: isWord})
		case 'h', 'H':
			cls.ranges = append(cls.ranges, rng{'0', '9'}, rng{'A', 'F'}, rng{'a', 'f'})
		}
		cls.neg = c >= 'A' && c <= 'Z'
		return cls, 0, true, nil
	case 'p', 'P':
		fn, neg, err := p.property()
		if err != nil {
			return nil, 0, false, err
		}
		cls = &class{preds: []pred{{fn: fn}}, neg: neg != (c == 'P')}
		return cls, 0, true, nil
	case 't':
		return nil, '\t', false, nil
	case 'n':
		return nil, '\n', false, nil
	case 'r':
		return nil, '\r', false, nil
	case 'f':
		return nil, '\f', false, nil
	case 'v':
		return nil, '\v', false, nil
	case 'a':
		return nil, '\a', false, nil
	case 'e':
		return nil, 0x1b, false, nil
	case 'b':
		if inClass {
			return nil, '\b', false, nil
		}
	case 'x':
		return p.hexEscape()
	case 'u':
		v, err := p.hexDigits(4, 4)
		if err != nil {
			return nil, 0, false, err
		}
		return nil, v, false, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		if c != '0' && !inClass {
			return nil, 0, false, p.errf(ErrUnsupported, "backreference \\%c", c)
		}
		v := c - '0'
		for i := 0; i < 2 && !p.eof() && p.peek() >= '0' && p.peek() <= '7'; i++ {
			v = v*8 + p.next() - '0'
		}
		return nil, v, false, nil
	}
	if c < utf8.RuneSelf && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return nil, 0, false, p.errf(ErrUnsupported, "escape \\%c", c)
	}
	return nil, c, false, nil
}

func (p *parser) hexEscape() (*class, rune, bool, error) {
	if !p.eof() && p.peek() == '{' {
		p.pos++
		end := strings.IndexByte(p.src[p.pos:], '}')
		if end <= 0 || end > 8 {
			return nil, 0, false, p.errf(ErrSyntax, "invalid code point value")
		}
		v, err := strconv.ParseUint(p.src[p.pos:p.pos+end], 16, 32)
		if err != nil || v > unicode.MaxRune {
			return nil, 0, false, p.errf(ErrSyntax, "invalid code point value")
		}
		p.pos += end + 1
		return nil, rune(v), false, nil
	}
	v, err := p.hexDigits(0, 2)
	if err != nil {
		return nil, 0, false, err
	}
	if v >= 0x80 {
		// \xHH above 0x7F is a raw byte in Oniguruma, which cannot be
		// part of a valid UTF-8 pattern on its own.
		return nil, 0, false, p.errf(ErrUnsupported, "raw byte escape \\x%02X", v)
	}
	return nil, v, false, nil
}

func (p *parser) hexDigits(min, max int) (rune, error) {
	var v rune
	n := 0
	for n < max && !p.eof() {
		d := p.peek()
		var x rune
		switch {
		case d >= '0' && d <= '9':
			x = d - '0'
		case d >= 'a' && d <= 'f':
			x = d - 'a' + 10
		case d >= 'A' && d <= 'F':
			x = d - 'A' + 10
		default:
			n = max + 1
			continue
		}
		v = v*16 + x
		p.pos++
		n++
	}
	if n > max {
		n = -1
	}
	if n >= 0 && n < min {
		return 0, p.errf(ErrSyntax, "too short hex escape")
	}
	return v, nil
}

// property parses {Name}, {^Name} after \p or \P.
func (p *parser) property() (fn func(rune) bool, neg bool, err error) {
	if p.eof() || p.peek() != '{' {
		return nil, false, p.errf(ErrSyntax, "invalid property name")
	}
	p.pos++
	end := strings.IndexByte(p.src[p.pos:], '}')
	if end < 0 || end > 64 {
		return nil, false, p.errf(ErrSyntax, "invalid property name")
	}
	name := p.src[p.pos : p.pos+end]
	p.pos += end + 1
	if strings.HasPrefix(name, "^") {
		neg = true
		name = name[1:]
	}
	fn = lookupProperty(name)
	if fn == nil {
		return nil, false, p.errf(ErrUnsupported, "property %q", name)
	}
	return fn, neg, nil
}

// class parses a bracket expression after '['.
func (p *parser) class(f flags) (*class, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf(ErrUnsupported, "classes nested too deeply")
	}
	cls := &class{}
	if !p.eof() && p.peek() == '^' {
		p.pos++
		cls.neg = true
	}
	first := true
	for {
		if p.eof() {
			return nil, p.errf(ErrSyntax, "premature end of char-class")
		}
		c := p.peek()
		if c == ']' && !first {
			p.pos++
			return cls, nil
		}
		first = false
		if c == '&' && strings.HasPrefix(p.src[p.pos:], "&&") {
			return nil, p.errf(ErrUnsupported, "class intersection &&")
		}
		if c == '[' {
			if strings.HasPrefix(p.src[p.pos:], "[:") {
				if ok, err := p.posixClass(cls); err != nil {
					return nil, err
				} else if ok {
					continue
				}
			}
			p.pos++
			sub, err := p.class(f)
			if err != nil {
				return nil, err
			}
			cls.subs = append(cls.subs, sub)
			continue
		}
		lo, sub, err := p.classAtom()
		if err != nil {
			return nil, err
		}
		if sub != nil {
			cls.subs = append(cls.subs, sub)
			continue
		}
		// Range?
		if strings.HasPrefix(p.src[p.pos:], "-") && !strings.HasPrefix(p.src[p.pos:], "-]") && len(p.src) > p.pos+1 {
			save := p.pos
			p.pos++
			if p.peek() == '[' {
				p.pos = save
				cls.ranges = append(cls.ranges, rng{lo, lo})
				continue
			}
			hi, hsub, err := p.classAtom()
			if err != nil {
				return nil, err
			}
			if hsub != nil {
				return nil, p.errf(ErrSyntax, "char-class value at end of range")
			}
			if hi < lo {
				return nil, p.errf(ErrSyntax, "empty range in char class")
			}
			cls.ranges = append(cls.ranges, rng{lo, hi})
			continue
		}
		cls.ranges = append(cls.ranges, rng{lo, lo})
	}
}

// classAtom parses one class member: a rune, or an escape that is a class.
func (p *parser) classAtom() (rune, *class, error) {
	c := p.next()
	if c != '\\' {
		return c, nil, nil
	}
	if p.eof() {
		return 0, nil, p.errf(ErrSyntax, "end pattern at escape")
	}
	cls, r, isClass, err := p.escape(true)
	if err != nil {
		return 0, nil, err
	}
	if isClass {
		return 0, cls, nil
	}
	return r, nil, nil
}

// posixClass parses [:name:] or [:^name:] inside a class. It returns false,
// leaving the position unchanged, when the text is not a POSIX bracket.
func (p *parser) posixClass(cls *class) (bool, error) {
	rest := p.src[p.pos+2:]
	end := strings.Index(rest, ":]")
	if end < 0 || end > 16 {
		return false, nil
	}
	name := rest[:end]
	neg := strings.HasPrefix(name, "^")
	if neg {
		name = name[1:]
	}
	fn := posixClasses[name]
	if fn == nil {
		return false, p.errf(ErrUnsupported, "POSIX bracket [:%s:]", name)
	}
	p.pos += 2 + end + 2
	cls.subs = append(cls.subs, &class{preds: []pred{{fn: fn}}, neg: neg})
	return true, nil
}

// width returns the maximum number of runes n can match, and false when it
// is unbounded.
func width(n *node) (int, bool) {
	switch n.kind {
	case nLit, nClass, nAny, nAnyNL:
		return 1, true
	case nEmpty, nAssert, nLook:
		return 0, true
	case nAtomic:
		return width(n.subs[0])
	case nConcat:
		t := 0
		for _, s := range n.subs {
			w, ok := width(s)
			if !ok {
				return 0, false
			}
			t += w
		}
		return t, true
	case nAlt:
		m := 0
		for _, s := range n.subs {
			w, ok := width(s)
			if !ok {
				return 0, false
			}
			m = max(m, w)
		}
		return m, true
	case nRepeat:
		if n.max < 0 {
			return 0, false
		}
		w, ok := width(n.subs[0])
		return w * n.max, ok
	}
	return 0, false
}

// nullable reports whether n can match the empty string.
func nullable(n *node) bool {
	switch n.kind {
	case nLit, nClass, nAny, nAnyNL:
		return false
	case nConcat:
		for _, s := range n.subs {
			if !nullable(s) {
				return false
			}
		}
		return true
	case nAlt:
		for _, s := range n.subs {
			if nullable(s) {
				return true
			}
		}
		return false
	case nRepeat:
		return n.min == 0 || nullable(n.subs[0])
	case nAtomic:
		return nullable(n.subs[0])
	}
	return true
}
