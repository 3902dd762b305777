package tokenizer

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// addedToken is one entry of tokenizer.json's added_tokens.
type addedToken struct {
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// trie is a byte trie answering leftmost-longest queries, the semantics of
// the Aho-Corasick automaton HF builds for added tokens.
type trie struct {
	root  [256]int32 // child of the root per first byte, 0 = none
	nodes []trieNode
}

type trieNode struct {
	edges []trieEdge // sorted by byte
	id    int        // token id ending here, -1 if none
}

type trieEdge struct {
	b     byte
	child int32
}

func newTrie() *trie { return &trie{nodes: []trieNode{{id: -1}}} }

// insert adds a pattern and reports false when it is already present.
func (t *trie) insert(s string, id int) bool {
	cur := int32(0)
	for i := 0; i < len(s); i++ {
		b := s[i]
		var next int32
		if cur == 0 {
			next = t.root[b]
		} else {
			edges := t.nodes[cur].edges
			k := sort.Search(len(edges), func(j int) bool { return edges[j].b >= b })
			if k < len(edges) && edges[k].b == b {
				next = edges[k].child
			}
		}
		if next == 0 {
			t.nodes = append(t.nodes, trieNode{id: -1})
			next = int32(len(t.nodes) - 1)
			if cur == 0 {
				t.root[b] = next
			} else {
				edges := t.nodes[cur].edges
				k := sort.Search(len(edges), func(j int) bool { return edges[j].b >= b })
				edges = append(edges, trieEdge{})
				copy(edges[k+1:], edges[k:])
				edges[k] = trieEdge{b, next}
				t.nodes[cur].edges = edges
			}
		}
		cur = next
	}
	if t.nodes[cur].id >= 0 {
		return false
	}
	t.nodes[cur].id = id
	return true
}

// longest returns the id and end of the longest pattern starting at pos, or
// id -1.
func (t *trie) longest(s string, pos int) (id, end int) {
	id = -1
	cur := t.root[s[pos]]
	for i := pos; cur != 0; {
		n := &t.nodes[cur]
		if n.id >= 0 {
			id, end = n.id, i+1
		}
		i++
		if i >= len(s) {
			break
		}
		b := s[i]
		edges := n.edges
		cur = 0
		if len(edges) < 8 {
			for _, e := range edges {
				if e.b == b {
					cur = e.child
					break
				}
			}
		} else {
			k := sort.Search(len(edges), func(j int) bool { return edges[j].b >= b })
			if k < len(edges) && edges[k].b == b {
				cur = edges[k].child
			}
		}
	}
	return id, end
}

// addedVocab is HF's AddedVocabulary.
type addedVocab struct {
	byContent  map[string]int
	byID       map[int]addedToken
	special    map[string]bool
	normCache  map[int]string // normalized form of normalized tokens, when it differs
	raw        *trie          // tokens matched on the original text
	normalized *trie          // tokens matched on normalized text
}

// buildAddedVocab replicates AddedVocabulary::add_tokens on deserialisation:
// a token takes the id of the same content already known (added or model
// vocabulary), else the next free id after the model vocabulary; the ids
// written in the file are not used.
func buildAddedVocab(tokens []addedToken, m *bpe, norm normalizer) (*addedVocab, error) {
	av := &addedVocab{
		byContent: map[string]int{},
		byID:      map[int]addedToken{},
		special:   map[string]bool{},
		normCache: map[int]string{},
	}
	next := len(m.vocab)
	for _, tok := range tokens {
		if tok.Content == "" {
			continue
		}
		if id, ok := av.byContent[tok.Content]; ok && av.byID[id] == tok {
			continue
		}
		id, ok := av.byContent[tok.Content]
		if !ok {
			id, ok = m.vocab[tok.Content]
		}
		if !ok {
			id = next
			next++
		}
		if tok.Normalized && norm != nil {
			p := newPiece(tok.Content, 0)
			norm.normalize(&p)
			if p.text != tok.Content {
				av.normCache[id] = p.text
			}
		}
		av.byContent[tok.Content] = id
		if tok.Special {
			av.special[tok.Content] = true
		}
		av.byID[id] = tok
	}
	// Build the tries in id order so that errors are deterministic.
	ids := make([]int, 0, len(av.byID))
	for id := range av.byID {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		tok := av.byID[id]
		pat, t := tok.Content, &av.raw
		if tok.Normalized {
			t = &av.normalized
			if n, ok := av.normCache[id]; ok {
				pat = n
			}
		}
		if pat == "" {
			// A token whose normalized form is empty can never match.
			continue
		}
		if *t == nil {
			*t = newTrie()
		}
		if !(*t).insert(pat, id) {
			return nil, fmt.Errorf("%w: added tokens: two tokens match %q", ErrMalformed, pat)
		}
	}
	return av, nil
}

// decodeToken is AddedVocabulary::simple_id_to_token: the normalized form
// for normalized tokens, else the content.
func (av *addedVocab) decodeToken(id int) (string, bool) {
	tok, ok := av.byID[id]
	if !ok {
		return "", false
	}
	if n, ok := av.normCache[id]; ok {
		return n, true
	}
	return tok.Content, true
}

// split is AddedVocabulary::find_matches plus split_with_indices: it cuts p
// at the added tokens t finds, applying single_word, lstrip and rstrip, and
// appends the pieces to out.
func (av *addedVocab) split(out []piece, p piece, t *trie) []piece {
	s := p.text
	if t == nil || s == "" {
		if s != "" {
			out = append(out, p)
		}
		return out
	}
	startOffset := 0
	for pos := 0; pos < len(s); {
		id, stop := t.longest(s, pos)
		if id < 0 {
			pos++
			continue
		}
		start := pos
		pos = stop
		tok := av.byID[id]
		if tok.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if tok.LStrip {
			start = max(len(strings.TrimRightFunc(s[:start], isWhitespace)), startOffset)
		}
		if tok.RStrip {
			stop += len(s[stop:]) - len(strings.TrimLeftFunc(s[stop:], isWhitespace))
		}
		if startOffset < start {
			out = append(out, p.sub(startOffset, start))
		}
		tp := p.sub(min(start, stop), stop)
		tp.id = id
		out = append(out, tp)
		startOffset = stop
	}
	if startOffset < len(s) {
		out = append(out, p.sub(startOffset, len(s)))
	}
	return out
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return s != "" && isRustWord(r)
}

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return s != "" && isRustWord(r)
}

// extract is AddedVocabulary::extract_and_normalize: tokens that match the
// raw text are cut out first, then each remaining part is normalized and
// cut again at the tokens that match normalized text.
func (av *addedVocab) extract(text string, norm normalizer) []piece {
	first := av.split(nil, newPiece(text, 0), av.raw)
	out := make([]piece, 0, len(first))
	for _, p := range first {
		if p.id >= 0 {
			out = append(out, p)
			continue
		}
		if norm != nil {
			norm.normalize(&p)
		}
		out = av.split(out, p, av.normalized)
	}
	return out
}
