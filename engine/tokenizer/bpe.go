package tokenizer

import (
	"fmt"
	"sync"
	"unicode/utf8"
)

// bpe is HF's BPE model.
type bpe struct {
	vocab  map[string]int
	vocabR []string // id -> token
	known  []bool   // whether vocabR[id] is a token
	// merges maps a pair of ids to its rank (high 32 bits) and the id of
	// the merged token (low 32 bits).
	merges        map[uint64]uint64
	unkID         int // -1 when there is no usable unk token
	prefix        string
	hasPrefix     bool
	suffix        string
	hasSuffix     bool
	fuseUnk       bool
	byteFallback  bool
	ignoreMerges  bool
	byteIDs       [256]int // id of "<0xNN>", -1 when absent
	cacheMu       sync.RWMutex
	cache         map[string][]int
	cacheCapacity int
}

// cacheMaxLen is HF's limit on the byte length of cached words.
const cacheMaxLen = 256

// defaultCacheCapacity is HF's default number of cached words.
const defaultCacheCapacity = 10000

func pairKey(a, b int) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// buildMerges resolves merges to ids as BpeBuilder::build does: both parts
// and their concatenation (minus the continuing-subword prefix of the
// second part) must be in the vocabulary. A pair listed twice keeps its
// last rank, as HF's map insertion does.
func (m *bpe) buildMerges(pairs [][2]string) error {
	m.merges = make(map[uint64]uint64, len(pairs))
	plen := 0
	if m.hasPrefix {
		plen = len(m.prefix)
	}
	for rank, p := range pairs {
		a, ok := m.vocab[p[0]]
		if !ok {
			return fmt.Errorf("%w: merge %d: token %q is not in the vocabulary", ErrMalformed, rank, p[0])
		}
		b, ok := m.vocab[p[1]]
		if !ok {
			return fmt.Errorf("%w: merge %d: token %q is not in the vocabulary", ErrMalformed, rank, p[1])
		}
		if len(p[1]) < plen {
			return fmt.Errorf("%w: merge %d: %q is shorter than the continuing_subword_prefix", ErrMalformed, rank, p[1])
		}
		merged := p[0] + p[1][plen:]
		n, ok := m.vocab[merged]
		if !ok {
			return fmt.Errorf("%w: merge %d: merged token %q is not in the vocabulary", ErrMalformed, rank, merged)
		}
		m.merges[pairKey(a, b)] = uint64(rank)<<32 | uint64(uint32(n))
	}
	return nil
}

// tokenize returns the ids of one pre-token (BPE::tokenize).
func (m *bpe) tokenize(out []int, s string) []int {
	if s == "" {
		return out
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[s]; ok {
			return append(out, id)
		}
	}
	cacheable := len(s) < cacheMaxLen
	if cacheable {
		m.cacheMu.RLock()
		ids, ok := m.cache[s]
		m.cacheMu.RUnlock()
		if ok {
			return append(out, ids...)
		}
	}
	ids := m.mergeWord(s)
	if cacheable {
		m.cacheMu.Lock()
		if len(m.cache) < m.cacheCapacity {
			m.cache[s] = ids
		}
		m.cacheMu.Unlock()
	}
	return append(out, ids...)
}

type symbol struct {
	id         int
	prev, next int
	gone       bool
}

type mergeItem struct {
	rank  uint32
	pos   int
	newID int
}

// before orders the merge queue as HF does: by rank, then by position.
func (a mergeItem) before(b mergeItem) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

// mergeWord is BPE::merge_word followed by Word::merge_all.
func (m *bpe) mergeWord(w string) []int {
	syms := make([]symbol, 0, len(w))
	add := func(id int) {
		n := len(syms)
		if n > 0 {
			syms[n-1].next = n
		}
		syms = append(syms, symbol{id: id, prev: n - 1, next: -1})
	}
	unk, unkPending := -1, false
	for i := 0; i < len(w); {
		_, size := utf8.DecodeRuneInString(w[i:])
		end := i + size
		s := w[i:end]
		if i > 0 && m.hasPrefix {
			s = m.prefix + s
		}
		if end == len(w) && m.hasSuffix {
			s += m.suffix
		}
		i = end
		if id, ok := m.vocab[s]; ok {
			if unkPending {
				add(unk)
				unkPending = false
			}
			add(id)
			continue
		}
		if m.byteFallback {
			all := true
			for k := 0; k < len(s); k++ {
				if m.byteIDs[s[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				// HF adds the byte tokens without flushing a pending unk.
				for k := 0; k < len(s); k++ {
					add(m.byteIDs[s[k]])
				}
				continue
			}
		}
		if m.unkID >= 0 {
			if unkPending && !m.fuseUnk {
				add(unk)
			}
			unk, unkPending = m.unkID, true
		}
	}
	if unkPending {
		add(unk)
	}

	var h heap[mergeItem]
	for i := 0; i+1 < len(syms); i++ {
		if v, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			h.push(mergeItem{rank: uint32(v >> 32), pos: i, newID: int(uint32(v))})
		}
	}
	for len(h) > 0 {
		top := h.pop()
		cur := &syms[top.pos]
		if cur.gone || cur.next < 0 {
			continue
		}
		ri := cur.next
		right := syms[ri]
		v, ok := m.merges[pairKey(cur.id, right.id)]
		if !ok || int(uint32(v)) != top.newID {
			continue
		}
		cur.id = top.newID
		cur.next = right.next
		syms[ri].gone = true
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			prev := syms[cur.prev]
			if v, ok := m.merges[pairKey(prev.id, cur.id)]; ok {
				h.push(mergeItem{rank: uint32(v >> 32), pos: cur.prev, newID: int(uint32(v))})
			}
		}
		if cur.next >= 0 {
			if v, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				h.push(mergeItem{rank: uint32(v >> 32), pos: top.pos, newID: int(uint32(v))})
			}
		}
	}
	ids := make([]int, 0, len(syms))
	for _, s := range syms {
		if !s.gone {
			ids = append(ids, s.id)
		}
	}
	return ids
}
