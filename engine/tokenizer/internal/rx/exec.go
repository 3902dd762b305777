package rx

import (
	"errors"
	"strings"
	"unicode/utf8"
)

type frameKind uint8

const (
	fAlt       frameKind = iota // resume at (pc, pos)
	fRepGreedy                  // give back one rune of repeat pc; n is the count
	fRepLazy                    // take one more rune for repeat pc; n is the count
	fSlot                       // restore slot n to pos
	fFail                       // memo: (pc, pos) failed when this frame is popped
)

type frame struct {
	kind frameKind
	pc   int
	pos  int
	n    int
}

// errBudget aborts a search in fast mode when it takes too many steps.
var errBudget = errors.New("rx: step budget exceeded")

// stepBudget is the number of backtracking steps one FindAll may take
// before switching to memoisation. It is shared by the whole iteration:
// well-behaved patterns take a few steps per input byte. Tests lower it to
// exercise the memoised mode.
var stepBudget = func(textLen int) int { return 1<<16 + 64*textLen }

// memoMaxBits bounds the dense bitset used for memoisation; larger inputs
// use a sparse set.
const memoMaxBits = 1 << 28

// memo records failed (instruction, position) states.
type memo struct {
	n      int // positions per instruction: len(text)+1
	bits   []uint64
	sparse map[int64]struct{}
}

func newMemo(insts, textLen int) *memo {
	m := &memo{n: textLen + 1}
	if total := int64(insts) * int64(m.n); total <= memoMaxBits {
		m.bits = make([]uint64, (total+63)/64)
	} else {
		m.sparse = make(map[int64]struct{})
	}
	return m
}

func (m *memo) key(pc, pos int) int64 { return int64(pc)*int64(m.n) + int64(pos) }

func (m *memo) failed(pc, pos int) bool {
	k := m.key(pc, pos)
	if m.bits != nil {
		return m.bits[k>>6]&(1<<(uint(k)&63)) != 0
	}
	_, ok := m.sparse[k]
	return ok
}

func (m *memo) mark(pc, pos int) {
	k := m.key(pc, pos)
	if m.bits != nil {
		m.bits[k>>6] |= 1 << (uint(k) & 63)
		return
	}
	m.sparse[k] = struct{}{}
}

type machine struct {
	prog   []inst
	text   string
	stack  []frame
	slots  []int
	steps  int
	budget int
	memo   *memo
}

// getMachine returns a machine for text, reusing a pooled one.
func (re *Regexp) getMachine(text string) *machine {
	m, _ := re.pool.Get().(*machine)
	if m == nil {
		m = &machine{prog: re.prog, slots: make([]int, re.slots)}
	}
	m.text, m.stack, m.steps, m.memo = text, m.stack[:0], 0, nil
	return m
}

// FindAll returns the [start, end) byte offsets of the successive matches of
// re in text, iterated exactly as the Rust onig crate's find_iter does
// (which Hugging Face tokenizers uses): after a non-empty match, an empty
// match found by the next search is skipped.
func (re *Regexp) FindAll(text string) [][2]int { return re.AppendAll(nil, text) }

// AppendAll is FindAll appending to out.
func (re *Regexp) AppendAll(out [][2]int, text string) [][2]int {
	if re.literal != "" {
		for start := 0; start <= len(text); {
			i := strings.Index(text[start:], re.literal)
			if i < 0 {
				break
			}
			s := start + i
			out = append(out, [2]int{s, s + len(re.literal)})
			start = s + len(re.literal)
		}
		return out
	}
	m := re.getMachine(text)
	defer func() {
		m.text, m.memo = "", nil
		re.pool.Put(m)
	}()
	m.budget = stepBudget(len(text))
	lastEnd, skipNextEmpty := 0, false
	for lastEnd <= len(text) {
		s, e, ok := m.find(lastEnd)
		if !ok {
			break
		}
		lastEnd = e
		if e == s {
			if lastEnd < len(text) {
				_, w := utf8.DecodeRuneInString(text[lastEnd:])
				lastEnd += w
			} else {
				lastEnd++
			}
			if skipNextEmpty {
				skipNextEmpty = false
				continue
			}
		} else {
			skipNextEmpty = true
		}
		out = append(out, [2]int{s, e})
	}
	return out
}

// find returns the leftmost-first match starting at or after start.
func (m *machine) find(start int) (int, int, bool) {
	for s := start; s <= len(m.text); {
		if e := m.runBudget(s); e >= 0 {
			return s, e, true
		}
		if s == len(m.text) {
			break
		}
		_, w := utf8.DecodeRuneInString(m.text[s:])
		s += w
	}
	return 0, 0, false
}

// runBudget runs the program anchored at s and returns the match end or
// -1: first without memoisation under the step budget, then, once the
// budget is spent, with memoisation (which cannot fail).
func (m *machine) runBudget(s int) int {
	if m.memo == nil {
		if e, err := m.run(0, s, -1, true); err == nil {
			return e
		}
		m.stack = m.stack[:0]
		m.memo = newMemo(len(m.prog), len(m.text))
	}
	e, _ := m.run(0, s, -1, true)
	return e
}

func (m *machine) push(f frame) { m.stack = append(m.stack, f) }

// run executes the program from pc at pos until opMatch or opSubEnd and
// returns the end position, or -1 when there is no match. When want >= 0
// the match must end exactly at want (lookbehind). useMemo allows the memo
// to be consulted and updated, which is valid only when the outcome of a
// state does not depend on want.
func (m *machine) run(pc, pos, want int, useMemo bool) (int, error) {
	base := len(m.stack)
	defer func() { m.stack = m.stack[:base] }()
	text := m.text
	for {
		ok, end, err := m.exec(&pc, &pos, want, useMemo)
		if err != nil {
			return -1, err
		}
		if ok {
			return end, nil
		}
		// Backtrack.
		resumed := false
		for !resumed {
			if len(m.stack) == base {
				return -1, nil
			}
			f := m.stack[len(m.stack)-1]
			m.stack = m.stack[:len(m.stack)-1]
			switch f.kind {
			case fAlt:
				pc, pos, resumed = f.pc, f.pos, true
			case fRepGreedy:
				in := &m.prog[f.pc]
				_, w := utf8.DecodeLastRuneInString(text[:f.pos])
				np, cnt := f.pos-w, f.n-1
				if cnt > in.min {
					m.push(frame{kind: fRepGreedy, pc: f.pc, pos: np, n: cnt})
				}
				pc, pos, resumed = f.pc+1, np, true
			case fRepLazy:
				in := &m.prog[f.pc]
				if (in.max < 0 || f.n < in.max) && f.pos < len(text) {
					r, w := utf8.DecodeRuneInString(text[f.pos:])
					if in.m.match(r) {
						np := f.pos + w
						m.push(frame{kind: fRepLazy, pc: f.pc, pos: np, n: f.n + 1})
						pc, pos, resumed = f.pc+1, np, true
					}
				}
			case fSlot:
				m.slots[f.n] = f.pos
			case fFail:
				m.memo.mark(f.pc, f.pos)
			}
		}
	}
}

// exec runs instructions until a failure (ok=false) or a match (ok=true).
func (m *machine) exec(pcp, posp *int, want int, useMemo bool) (ok bool, end int, err error) {
	pc, pos := *pcp, *posp
	text := m.text
	for {
		if m.memo == nil {
			m.steps++
			if m.steps > m.budget {
				return false, 0, errBudget
			}
		} else if useMemo {
			if m.memo.failed(pc, pos) {
				return false, 0, nil
			}
			m.push(frame{kind: fFail, pc: pc, pos: pos})
		}
		in := &m.prog[pc]
		switch in.op {
		case opRune:
			if pos >= len(text) {
				return false, 0, nil
			}
			r, w := rune(text[pos]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(text[pos:])
			}
			if r != in.r {
				return false, 0, nil
			}
			pos += w
			pc++
		case opMatcher:
			if pos >= len(text) {
				return false, 0, nil
			}
			r, w := rune(text[pos]), 1
			if r >= utf8.RuneSelf {
				r, w = utf8.DecodeRuneInString(text[pos:])
			}
			if !in.m.match(r) {
				return false, 0, nil
			}
			pos += w
			pc++
		case opSplit:
			m.push(frame{kind: fAlt, pc: in.y, pos: pos})
			pc = in.x
		case opJmp:
			pc = in.x
		case opAssert:
			if !m.assert(in.a, pos) {
				return false, 0, nil
			}
			pc++
		case opLook:
			matched, err := m.look(in, pos, useMemo)
			if err != nil {
				return false, 0, err
			}
			if matched == in.neg {
				return false, 0, nil
			}
			pc = in.y
		case opAtomic:
			e, err := m.run(in.x, pos, -1, useMemo)
			if err != nil {
				return false, 0, err
			}
			if e < 0 {
				return false, 0, nil
			}
			pos, pc = e, in.y
		case opSubEnd:
			if want >= 0 && pos != want {
				return false, 0, nil
			}
			return true, pos, nil
		case opMatch:
			return true, pos, nil
		case opRep:
			cnt, p := 0, pos
			limit := in.max
			if in.rep == lazy {
				limit = in.min
			}
			for (limit < 0 || cnt < limit) && p < len(text) {
				r, w := rune(text[p]), 1
				if r >= utf8.RuneSelf {
					r, w = utf8.DecodeRuneInString(text[p:])
				}
				if !in.m.match(r) {
					break
				}
				p += w
				cnt++
			}
			if cnt < in.min {
				return false, 0, nil
			}
			switch in.rep {
			case greedy:
				if cnt > in.min {
					m.push(frame{kind: fRepGreedy, pc: pc, pos: p, n: cnt})
				}
			case lazy:
				m.push(frame{kind: fRepLazy, pc: pc, pos: p, n: cnt})
			}
			pos = p
			pc++
		case opEmptyStart:
			m.push(frame{kind: fSlot, n: in.slot, pos: m.slots[in.slot]})
			m.slots[in.slot] = pos
			pc++
		case opEmptyEnd:
			if pos == m.slots[in.slot] {
				pc++
			} else {
				pc = in.x
			}
		}
		*pcp, *posp = pc, pos
	}
}

// look evaluates a lookaround at pos.
func (m *machine) look(in *inst, pos int, useMemo bool) (bool, error) {
	if !in.behind {
		e, err := m.run(in.x, pos, -1, useMemo)
		return e >= 0, err
	}
	// Try every start within the body's maximum width, nearest first. The
	// body must end exactly at pos; states then depend on pos, so the memo
	// is not used.
	k := pos
	for i := 0; ; i++ {
		e, err := m.run(in.x, k, pos, false)
		if err != nil {
			return false, err
		}
		if e >= 0 {
			return true, nil
		}
		if i >= in.maxw || k == 0 {
			return false, nil
		}
		_, w := utf8.DecodeLastRuneInString(m.text[:k])
		k -= w
	}
}

func (m *machine) assert(a assertKind, pos int) bool {
	text := m.text
	switch a {
	case aBOL:
		return pos == 0 || text[pos-1] == '\n'
	case aEOL:
		return pos == len(text) || text[pos] == '\n'
	case aBeginText:
		return pos == 0
	case aEndText:
		return pos == len(text)
	case aEndTextOpt:
		return pos == len(text) || (pos == len(text)-1 && text[pos] == '\n')
	case aWordB, aNotWordB:
		before, after := false, false
		if pos > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:pos])
			before = isWord(r)
		}
		if pos < len(text) {
			r, _ := utf8.DecodeRuneInString(text[pos:])
			after = isWord(r)
		}
		return (before != after) == (a == aWordB)
	}
	return false
}
