package rx

import (
	"fmt"
	"sync"
	"unicode"
)

type opcode uint8

const (
	opRune       opcode = iota // match rune r
	opMatcher                  // match one rune accepted by m
	opSplit                    // try x, on failure y
	opJmp                      // goto x
	opAssert                   // zero-width assertion a
	opLook                     // lookaround: sub-program at x
	opAtomic                   // atomic group: sub-program at x, then continue
	opSubEnd                   // end of a sub-program
	opMatch                    // overall match
	opRep                      // repeat matcher m between min and max times
	opEmptyStart               // remember the position in slot
	opEmptyEnd                 // loop back to x unless the iteration was empty
)

type inst struct {
	op       opcode
	rep      repKind
	behind   bool
	neg      bool
	a        assertKind
	r        rune
	x, y     int
	min, max int
	slot     int
	maxw     int
	m        *matcher
}

// maxInsts bounds the compiled program size.
const maxInsts = 1 << 16

// Regexp is a compiled pattern. It is safe for concurrent use.
type Regexp struct {
	prog  []inst
	slots int
	// literal is set when the pattern is a plain non-empty literal, which
	// FindAll searches with strings.Index.
	literal string
	pool    sync.Pool // *machine
}

type compiler struct {
	prog  []inst
	slots int
	err   error
}

// Compile parses and compiles an Oniguruma (Ruby syntax) pattern.
func Compile(src string) (*Regexp, error) {
	n, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{}
	c.emit(n)
	c.add(inst{op: opMatch})
	if c.err != nil {
		return nil, c.err
	}
	re := &Regexp{prog: c.prog, slots: c.slots}
	if lit, ok := literalOf(n); ok && lit != "" {
		re.literal = lit
	}
	return re, nil
}

// QuoteMeta returns a pattern that matches s literally, as Rust's
// regex::escape does for the String patterns of tokenizer.json.
func QuoteMeta(s string) string {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$', '#', '&', '-', '~':
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return string(b)
}

func literalOf(n *node) (string, bool) {
	switch n.kind {
	case nLit:
		if n.fold {
			return "", false
		}
		return string(n.r), true
	case nConcat:
		s := ""
		for _, sub := range n.subs {
			t, ok := literalOf(sub)
			if !ok {
				return "", false
			}
			s += t
		}
		return s, true
	}
	return "", false
}

func (c *compiler) add(i inst) int {
	if len(c.prog) >= maxInsts {
		if c.err == nil {
			c.err = fmt.Errorf("%w: compiled program too large", ErrUnsupported)
		}
		return len(c.prog) - 1
	}
	c.prog = append(c.prog, i)
	return len(c.prog) - 1
}

// atomMatcher returns a matcher for single-rune nodes.
func atomMatcher(n *node) *matcher {
	switch n.kind {
	case nLit:
		r := n.r
		if n.fold {
			orbit := foldOrbit(r)
			return newMatcher(func(x rune) bool {
				for _, o := range orbit {
					if o == x {
						return true
					}
				}
				return false
			})
		}
		return newMatcher(func(x rune) bool { return x == r })
	case nClass:
		cls := n.cls
		if n.fold {
			return newMatcher(cls.containsFold)
		}
		return newMatcher(cls.contains)
	case nAny:
		return newMatcher(func(x rune) bool { return x != '\n' })
	case nAnyNL:
		return newMatcher(func(rune) bool { return true })
	}
	return nil
}

func foldOrbit(r rune) []rune {
	o := []rune{r}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		o = append(o, f)
	}
	return o
}

func (c *compiler) emit(n *node) {
	if c.err != nil {
		return
	}
	switch n.kind {
	case nEmpty:
	case nLit:
		if !n.fold {
			c.add(inst{op: opRune, r: n.r})
			return
		}
		c.add(inst{op: opMatcher, m: atomMatcher(n)})
	case nClass, nAny, nAnyNL:
		c.add(inst{op: opMatcher, m: atomMatcher(n)})
	case nConcat:
		for _, s := range n.subs {
			c.emit(s)
		}
	case nAlt:
		var jumps []int
		for i, s := range n.subs {
			if i < len(n.subs)-1 {
				split := c.add(inst{op: opSplit})
				c.prog[split].x = split + 1
				c.emit(s)
				jumps = append(jumps, c.add(inst{op: opJmp}))
				c.prog[split].y = len(c.prog)
			} else {
				c.emit(s)
			}
		}
		for _, j := range jumps {
			c.prog[j].x = len(c.prog)
		}
	case nAssert:
		c.add(inst{op: opAssert, a: n.assert})
	case nLook:
		w, _ := width(n.subs[0])
		look := c.add(inst{op: opLook, behind: n.behind, neg: n.neg, maxw: w})
		c.prog[look].x = look + 1
		c.emit(n.subs[0])
		c.add(inst{op: opSubEnd})
		c.prog[look].y = len(c.prog)
	case nAtomic:
		c.atomic(n.subs[0])
	case nRepeat:
		c.repeat(n)
	}
}

// atomic compiles (?>sub): the sub-program runs as an independent search and
// only its first match is kept.
func (c *compiler) atomic(sub *node) {
	at := c.add(inst{op: opAtomic})
	c.prog[at].x = at + 1
	c.emit(sub)
	c.add(inst{op: opSubEnd})
	c.prog[at].y = len(c.prog)
}

func (c *compiler) repeat(n *node) {
	sub := n.subs[0]
	if m := atomMatcher(sub); m != nil {
		c.add(inst{op: opRep, m: m, min: n.min, max: n.max, rep: n.rep})
		return
	}
	if n.rep == possessive {
		inner := *n
		inner.rep = greedy
		c.atomic(&inner)
		return
	}
	for i := 0; i < n.min; i++ {
		c.emit(sub)
	}
	if n.max < 0 {
		c.star(sub, n.rep == lazy)
		return
	}
	// (m-n) nested optional copies: x{0,k} = (x(x(...)?)?)?
	var exits []int
	for i := n.min; i < n.max; i++ {
		split := c.add(inst{op: opSplit})
		exits = append(exits, split)
		if n.rep == lazy {
			c.prog[split].y = split + 1
		} else {
			c.prog[split].x = split + 1
		}
		c.emit(sub)
	}
	end := len(c.prog)
	for _, s := range exits {
		if n.rep == lazy {
			c.prog[s].x = end
		} else {
			c.prog[s].y = end
		}
	}
}

// star compiles sub* with an empty-iteration check for nullable bodies, so
// that an iteration matching the empty string ends the loop as in
// Oniguruma.
func (c *compiler) star(sub *node, isLazy bool) {
	split := c.add(inst{op: opSplit})
	body := len(c.prog)
	slot := -1
	if nullable(sub) {
		slot = c.slots
		c.slots++
		c.add(inst{op: opEmptyStart, slot: slot})
	}
	c.emit(sub)
	if slot >= 0 {
		c.add(inst{op: opEmptyEnd, slot: slot, x: split})
	} else {
		c.add(inst{op: opJmp, x: split})
	}
	end := len(c.prog)
	if isLazy {
		c.prog[split].x, c.prog[split].y = end, body
	} else {
		c.prog[split].x, c.prog[split].y = body, end
	}
}
