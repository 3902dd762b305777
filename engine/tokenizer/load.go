package tokenizer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/loomai/loom/engine/tokenizer/internal/rx"
)

// Limits on untrusted tokenizer files. Real files stay far below them
// (Gemma 3: 33 MB, 262,144 tokens, 514,906 merges, 6,415 added tokens).
const (
	// MaxFileBytes bounds tokenizer.json and tokenizer_config.json.
	MaxFileBytes = 256 << 20
	// MaxVocab bounds the model vocabulary.
	MaxVocab = 1 << 22
	// MaxMerges bounds the BPE merge list.
	MaxMerges = 1 << 23
	// MaxAddedTokens bounds added_tokens.
	MaxAddedTokens = 1 << 20
	// MaxTokenBytes bounds the length of one token string.
	MaxTokenBytes = 1 << 16
	// MaxAddedBytes bounds the total length of the added tokens.
	MaxAddedBytes = 1 << 22
	// maxComponentDepth bounds nested Sequence components.
	maxComponentDepth = 16
	// maxComponents bounds the number of components in one file.
	maxComponents = 1 << 10
	// maxRegexBytes bounds the total length of the file's patterns.
	maxRegexBytes = 1 << 16
	// maxListLen bounds component lists, templates and special-token ids.
	maxListLen = 1 << 10
)

type fileJSON struct {
	Version       *string         `json:"version"`
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	Model         *modelJSON      `json:"model"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
}

// LoadFS loads tokenizer.json and, when present, tokenizer_config.json from
// the root of fsys.
func LoadFS(fsys fs.FS) (*Tokenizer, error) {
	tj, err := readBounded(fsys, "tokenizer.json")
	if err != nil {
		return nil, err
	}
	cj, err := readBounded(fsys, "tokenizer_config.json")
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return Load(tj, cj)
}

func readBounded(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: open %s: %w", name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("tokenizer: read %s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrMalformed, name, MaxFileBytes)
	}
	return data, nil
}

// Load builds a tokenizer from the contents of tokenizer.json and
// tokenizer_config.json (which may be nil).
func Load(tokenizerJSON, tokenizerConfigJSON []byte) (*Tokenizer, error) {
	if len(tokenizerJSON) > MaxFileBytes || len(tokenizerConfigJSON) > MaxFileBytes {
		return nil, fmt.Errorf("%w: file larger than %d bytes", ErrMalformed, MaxFileBytes)
	}
	var f fileJSON
	if err := json.Unmarshal(tokenizerJSON, &f); err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %v", ErrMalformed, err)
	}
	if f.Version != nil && *f.Version != "1.0" {
		return nil, fmt.Errorf("%w: unknown tokenizer.json version %q", ErrUnsupported, *f.Version)
	}
	t := &Tokenizer{}
	ld := &loader{}
	var err error
	if t.norm, err = ld.parseNormalizer(f.Normalizer, 0); err != nil {
		return nil, fmt.Errorf("normalizer: %w", err)
	}
	if t.preTok, err = ld.parsePreTokenizer(f.PreTokenizer, 0); err != nil {
		return nil, fmt.Errorf("pre_tokenizer: %w", err)
	}
	if t.model, err = parseModel(f.Model); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	if t.dec, err = ld.parseDecoder(f.Decoder, 0); err != nil {
		return nil, fmt.Errorf("decoder: %w", err)
	}
	t.byteFallback = hasDecoder[byteFallbackDecoder](t.dec)
	t.byteLevel = hasDecoder[byteLevelDecoder](t.dec)
	if len(f.AddedTokens) > MaxAddedTokens {
		return nil, fmt.Errorf("%w: %d added tokens, limit %d", ErrMalformed, len(f.AddedTokens), MaxAddedTokens)
	}
	addedBytes := 0
	for _, a := range f.AddedTokens {
		if len(a.Content) > MaxTokenBytes {
			return nil, fmt.Errorf("%w: added token of %d bytes", ErrMalformed, len(a.Content))
		}
		addedBytes += len(a.Content)
	}
	if addedBytes > MaxAddedBytes {
		return nil, fmt.Errorf("%w: added tokens total %d bytes, limit %d", ErrMalformed, addedBytes, MaxAddedBytes)
	}
	if t.added, err = buildAddedVocab(f.AddedTokens, t.model, t.norm); err != nil {
		return nil, err
	}
	t.vocabSize = len(t.model.vocabR)
	for id := range t.added.byID {
		t.vocabSize = max(t.vocabSize, id+1)
	}
	if t.post, err = ld.parsePostProcessor(f.PostProcessor, 0); err != nil {
		return nil, fmt.Errorf("post_processor: %w", err)
	}
	if t.post != nil {
		// Special tokens of the post-processor are emitted as written, even
		// when the vocabulary lacks them.
		t.vocabSize = max(t.vocabSize, t.post.maxID()+1)
	}
	if len(tokenizerConfigJSON) > 0 {
		if err := t.parseConfig(tokenizerConfigJSON); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// loader keeps the totals that bound one Load call.
type loader struct {
	components int
	regexBytes int
}

// component is the generic form of a tagged component object.
type component map[string]json.RawMessage

// parseComponent decodes a component object; ok is false for null or an
// absent value.
func parseComponent(raw json.RawMessage) (c component, typ string, ok bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, "", false, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, "", false, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c == nil {
		return nil, "", false, nil
	}
	if err := c.get("type", &typ); err != nil {
		return nil, "", false, err
	}
	if typ == "" {
		return nil, "", false, fmt.Errorf("%w: component without a type", ErrMalformed)
	}
	return c, typ, true, nil
}

// get decodes field name into v when it is present and not null.
func (c component) get(name string, v any) error {
	raw, ok := c[name]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: field %q: %v", ErrMalformed, name, err)
	}
	return nil
}

// list decodes an array field of components.
func (c component) list(name string) ([]json.RawMessage, error) {
	var l []json.RawMessage
	if err := c.get(name, &l); err != nil {
		return nil, err
	}
	if len(l) > maxListLen {
		return nil, fmt.Errorf("%w: %q has %d entries, limit %d", ErrMalformed, name, len(l), maxListLen)
	}
	return l, nil
}

// pattern decodes a {"String": ...} or {"Regex": ...} pattern and compiles
// it; a String is matched literally.
func (ld *loader) pattern(c component) (*rx.Regexp, error) {
	var p struct {
		String *string `json:"String"`
		Regex  *string `json:"Regex"`
	}
	if err := c.get("pattern", &p); err != nil {
		return nil, err
	}
	var src string
	switch {
	case p.String != nil:
		src = rx.QuoteMeta(*p.String)
	case p.Regex != nil:
		src = *p.Regex
	default:
		return nil, fmt.Errorf("%w: pattern needs String or Regex", ErrMalformed)
	}
	ld.regexBytes += len(src)
	if ld.regexBytes > maxRegexBytes {
		return nil, fmt.Errorf("%w: patterns longer than %d bytes in all", ErrUnsupported, maxRegexBytes)
	}
	re, err := rx.Compile(src)
	if err != nil {
		if errors.Is(err, rx.ErrUnsupported) {
			return nil, fmt.Errorf("%w: regex %q: %v", ErrUnsupported, src, err)
		}
		return nil, fmt.Errorf("%w: regex %q: %v", ErrMalformed, src, err)
	}
	return re, nil
}

// char decodes a field holding exactly one character.
func (c component) char(name string, def rune) (rune, error) {
	s := string(def)
	if err := c.get(name, &s); err != nil {
		return 0, err
	}
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || n != len(s) {
		return 0, fmt.Errorf("%w: %q must be one character, got %q", ErrMalformed, name, s)
	}
	return r, nil
}

func unsupported(kind, typ string) error {
	return fmt.Errorf("%w: %s type %q", ErrUnsupported, kind, typ)
}

// enter counts one component and checks the nesting depth.
func (ld *loader) enter(depth int) error {
	if depth > maxComponentDepth {
		return fmt.Errorf("%w: components nested deeper than %d", ErrMalformed, maxComponentDepth)
	}
	ld.components++
	if ld.components > maxComponents {
		return fmt.Errorf("%w: more than %d components", ErrMalformed, maxComponents)
	}
	return nil
}

func (ld *loader) parseNormalizer(raw json.RawMessage, depth int) (normalizer, error) {
	if err := ld.enter(depth); err != nil {
		return nil, err
	}
	c, typ, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "NFC":
		return unicodeNormalizer{norm.NFC}, nil
	case "NFD":
		return unicodeNormalizer{norm.NFD}, nil
	case "NFKC":
		return unicodeNormalizer{norm.NFKC}, nil
	case "NFKD":
		return unicodeNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercase{}, nil
	case "StripAccents":
		return stripAccents{}, nil
	case "Nmt":
		return nmt{}, nil
	case "ByteLevel":
		return byteLevelNormalizer{}, nil
	case "Strip":
		var s strip
		if err := c.get("strip_left", &s.left); err != nil {
			return nil, err
		}
		if err := c.get("strip_right", &s.right); err != nil {
			return nil, err
		}
		return s, nil
	case "Prepend":
		var p prepend
		if err := c.get("prepend", &p.s); err != nil {
			return nil, err
		}
		return p, nil
	case "Replace":
		re, err := ld.pattern(c)
		if err != nil {
			return nil, err
		}
		r := replace{re: re}
		if err := c.get("content", &r.content); err != nil {
			return nil, err
		}
		return r, nil
	case "Sequence":
		seq, err := parseSequence(c, "normalizers", depth, ld.parseNormalizer)
		if err != nil {
			return nil, err
		}
		return seqNormalizer(seq), nil
	}
	return nil, unsupported("normalizer", typ)
}

// parseSequence parses the list name of a Sequence component at depth,
// each element with parse one level deeper, leaving out the elements that
// parse to nil (steps that do nothing).
func parseSequence[T any](c component, name string, depth int, parse func(json.RawMessage, int) (T, error)) ([]T, error) {
	l, err := c.list(name)
	if err != nil {
		return nil, err
	}
	var seq []T
	for _, e := range l {
		x, err := parse(e, depth+1)
		if err != nil {
			return nil, err
		}
		if any(x) != nil {
			seq = append(seq, x)
		}
	}
	return seq, nil
}

func parseBehavior(c component, def behavior) (behavior, error) {
	var s string
	if err := c.get("behavior", &s); err != nil {
		return 0, err
	}
	switch s {
	case "":
		return def, nil
	case "Removed":
		return removed, nil
	case "Isolated":
		return isolated, nil
	case "MergedWithPrevious":
		return mergedWithPrevious, nil
	case "MergedWithNext":
		return mergedWithNext, nil
	case "Contiguous":
		return contiguous, nil
	}
	return 0, fmt.Errorf("%w: split behavior %q", ErrUnsupported, s)
}

// parsePrependScheme reads Metaspace's prepend_scheme and the legacy
// add_prefix_space as HF does.
func parsePrependScheme(c component) (prependScheme, error) {
	var s string
	if err := c.get("prepend_scheme", &s); err != nil {
		return 0, err
	}
	var scheme prependScheme
	switch s {
	case "", "always":
		scheme = prependAlways
	case "first":
		scheme = prependFirst
	case "never":
		scheme = prependNever
	default:
		return 0, fmt.Errorf("%w: prepend_scheme %q", ErrUnsupported, s)
	}
	var aps *bool
	if err := c.get("add_prefix_space", &aps); err != nil {
		return 0, err
	}
	if aps != nil && !*aps && scheme != prependNever {
		return 0, fmt.Errorf("%w: add_prefix_space false does not match prepend_scheme", ErrMalformed)
	}
	return scheme, nil
}

// parsePreTokenizer returns the pre-tokenizer as a list of stages; nested
// Sequences are flattened.
func (ld *loader) parsePreTokenizer(raw json.RawMessage, depth int) ([]preTokenizer, error) {
	if err := ld.enter(depth); err != nil {
		return nil, err
	}
	c, typ, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "Split":
		re, err := ld.pattern(c)
		if err != nil {
			return nil, err
		}
		b, err := parseBehavior(c, isolated)
		if err != nil {
			return nil, err
		}
		s := splitPreTokenizer{re: re, b: b}
		if err := c.get("invert", &s.invert); err != nil {
			return nil, err
		}
		return []preTokenizer{s}, nil
	case "ByteLevel":
		b := byteLevelPreTokenizer{addPrefixSpace: true, useRegex: true}
		if err := c.get("add_prefix_space", &b.addPrefixSpace); err != nil {
			return nil, err
		}
		if err := c.get("use_regex", &b.useRegex); err != nil {
			return nil, err
		}
		return []preTokenizer{b}, nil
	case "Metaspace":
		repl, err := c.char("replacement", '▁')
		if err != nil {
			return nil, err
		}
		scheme, err := parsePrependScheme(c)
		if err != nil {
			return nil, err
		}
		m := metaspacePreTokenizer{repl: repl, scheme: scheme, split: true, space: mustCompile(" ")}
		if err := c.get("split", &m.split); err != nil {
			return nil, err
		}
		return []preTokenizer{m}, nil
	case "Digits":
		var individual bool
		if err := c.get("individual_digits", &individual); err != nil {
			return nil, err
		}
		if individual {
			return []preTokenizer{funcPreTokenizer{fn: isNumeric, b: isolated}}, nil
		}
		return []preTokenizer{funcPreTokenizer{fn: isNumeric, b: contiguous}}, nil
	case "Punctuation":
		b, err := parseBehavior(c, isolated)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{funcPreTokenizer{fn: isPunc, b: b}}, nil
	case "Whitespace":
		return []preTokenizer{whitespacePreTokenizer{}}, nil
	case "WhitespaceSplit":
		return []preTokenizer{funcPreTokenizer{fn: isWhitespace, b: removed}}, nil
	case "BertPreTokenizer":
		return []preTokenizer{bertPreTokenizer{}}, nil
	case "CharDelimiterSplit":
		d, err := c.char("delimiter", 0)
		if err != nil {
			return nil, err
		}
		return []preTokenizer{funcPreTokenizer{fn: func(r rune) bool { return r == d }, b: removed}}, nil
	case "Sequence":
		l, err := c.list("pretokenizers")
		if err != nil {
			return nil, err
		}
		var stages []preTokenizer
		for _, e := range l {
			p, err := ld.parsePreTokenizer(e, depth+1)
			if err != nil {
				return nil, err
			}
			stages = append(stages, p...)
		}
		return stages, nil
	}
	return nil, unsupported("pre_tokenizer", typ)
}

func (ld *loader) parseDecoder(raw json.RawMessage, depth int) (decoder, error) {
	if err := ld.enter(depth); err != nil {
		return nil, err
	}
	c, typ, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Metaspace":
		repl, err := c.char("replacement", '▁')
		if err != nil {
			return nil, err
		}
		scheme, err := parsePrependScheme(c)
		if err != nil {
			return nil, err
		}
		return metaspaceDecoder{repl: repl, scheme: scheme}, nil
	case "Replace":
		re, err := ld.pattern(c)
		if err != nil {
			return nil, err
		}
		r := replaceDecoder{re: re}
		if err := c.get("content", &r.content); err != nil {
			return nil, err
		}
		return r, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		content, err := c.char("content", ' ')
		if err != nil {
			return nil, err
		}
		s := stripDecoder{content: content}
		if err := c.get("start", &s.start); err != nil {
			return nil, err
		}
		if err := c.get("stop", &s.stop); err != nil {
			return nil, err
		}
		if s.start < 0 || s.stop < 0 {
			return nil, fmt.Errorf("%w: Strip start and stop must not be negative", ErrMalformed)
		}
		return s, nil
	case "BPEDecoder":
		d := bpeDecoder{suffix: "</w>"}
		if err := c.get("suffix", &d.suffix); err != nil {
			return nil, err
		}
		return d, nil
	case "Sequence":
		seq, err := parseSequence(c, "decoders", depth, ld.parseDecoder)
		if err != nil {
			return nil, err
		}
		return seqDecoder(seq), nil
	}
	return nil, unsupported("decoder", typ)
}

// hasDecoder reports whether the decoder chain d has a step of type T.
func hasDecoder[T decoder](d decoder) bool {
	if _, ok := d.(T); ok {
		return true
	}
	if seq, ok := d.(seqDecoder); ok {
		for _, sub := range seq {
			if hasDecoder[T](sub) {
				return true
			}
		}
	}
	return false
}

// parsePostProcessor returns nil for processors that do not change ids
// (ByteLevel only adjusts offsets).
func (ld *loader) parsePostProcessor(raw json.RawMessage, depth int) (postProcessor, error) {
	if err := ld.enter(depth); err != nil {
		return nil, err
	}
	c, typ, ok, err := parseComponent(raw)
	if err != nil || !ok {
		return nil, err
	}
	switch typ {
	case "ByteLevel":
		return nil, nil
	case "TemplateProcessing":
		return parseTemplate(c)
	case "BertProcessing", "RobertaProcessing":
		cls, err := tokenPairID(c, typ, "cls")
		if err != nil {
			return nil, err
		}
		sep, err := tokenPairID(c, typ, "sep")
		if err != nil {
			return nil, err
		}
		return wrapProcessor{cls: cls, sep: sep}, nil
	case "Sequence":
		seq, err := parseSequence(c, "processors", depth, ld.parsePostProcessor)
		if err != nil {
			return nil, err
		}
		switch len(seq) {
		case 0:
			return nil, nil
		case 1:
			return seq[0], nil
		}
		// HF hands the several encodings one processor produces to the
		// next, which then treats them as a pair or fails.
		return nil, fmt.Errorf("%w: post_processor Sequence with more than one processor that adds tokens", ErrUnsupported)
	}
	return nil, unsupported("post_processor", typ)
}

// tokenPairID reads the id of a ["token", id] field.
func tokenPairID(c component, typ, name string) (int, error) {
	var pair []json.RawMessage
	if err := c.get(name, &pair); err != nil {
		return 0, err
	}
	var id int
	if len(pair) != 2 || json.Unmarshal(pair[1], &id) != nil || id < 0 || id >= MaxVocab {
		return 0, fmt.Errorf("%w: %s.%s must be [token, id]", ErrMalformed, typ, name)
	}
	return id, nil
}

func parseTemplate(c component) (postProcessor, error) {
	var single []map[string]struct {
		ID string `json:"id"`
	}
	if err := c.get("single", &single); err != nil {
		return nil, err
	}
	if len(single) > maxListLen {
		return nil, fmt.Errorf("%w: template has %d pieces", ErrMalformed, len(single))
	}
	var specials map[string]struct {
		IDs []int `json:"ids"`
	}
	if err := c.get("special_tokens", &specials); err != nil {
		return nil, err
	}
	var t templateProcessor
	for _, p := range single {
		if len(p) != 1 {
			return nil, fmt.Errorf("%w: template piece must be Sequence or SpecialToken", ErrMalformed)
		}
		if seq, ok := p["Sequence"]; ok {
			if seq.ID != "A" {
				return nil, fmt.Errorf("%w: single template uses sequence %q", ErrMalformed, seq.ID)
			}
			t = append(t, templatePiece{sequence: true})
			continue
		}
		sp, ok := p["SpecialToken"]
		if !ok {
			return nil, fmt.Errorf("%w: template piece must be Sequence or SpecialToken", ErrMalformed)
		}
		tok, ok := specials[sp.ID]
		if !ok {
			return nil, fmt.Errorf("%w: template special token %q is not in special_tokens", ErrMalformed, sp.ID)
		}
		if len(tok.IDs) > maxListLen {
			return nil, fmt.Errorf("%w: special token %q has %d ids", ErrMalformed, sp.ID, len(tok.IDs))
		}
		for _, id := range tok.IDs {
			if id < 0 || id >= MaxVocab {
				return nil, fmt.Errorf("%w: special token %q has id %d", ErrMalformed, sp.ID, id)
			}
		}
		t = append(t, templatePiece{ids: tok.IDs})
	}
	return t, nil
}

type modelJSON struct {
	Type                    string          `json:"type"`
	Dropout                 *float64        `json:"dropout"`
	UnkToken                *string         `json:"unk_token"`
	ContinuingSubwordPrefix *string         `json:"continuing_subword_prefix"`
	EndOfWordSuffix         *string         `json:"end_of_word_suffix"`
	FuseUnk                 bool            `json:"fuse_unk"`
	ByteFallback            bool            `json:"byte_fallback"`
	IgnoreMerges            bool            `json:"ignore_merges"`
	Vocab                   json.RawMessage `json:"vocab"`
	Merges                  json.RawMessage `json:"merges"`
}

func parseModel(mj *modelJSON) (*bpe, error) {
	if mj == nil {
		return nil, fmt.Errorf("%w: no model", ErrMalformed)
	}
	if mj.Type != "" && mj.Type != "BPE" {
		return nil, unsupported("model", mj.Type)
	}
	if mj.Dropout != nil && *mj.Dropout != 0 {
		return nil, fmt.Errorf("%w: BPE dropout %v (only null or 0 is deterministic)", ErrUnsupported, *mj.Dropout)
	}
	if len(mj.Vocab) == 0 || len(mj.Merges) == 0 {
		return nil, fmt.Errorf("%w: BPE model needs vocab and merges", ErrMalformed)
	}
	m := &bpe{unkID: -1, fuseUnk: mj.FuseUnk, byteFallback: mj.ByteFallback, ignoreMerges: mj.IgnoreMerges,
		cache: map[string][]int{}, cacheCapacity: defaultCacheCapacity}
	var err error
	if m.vocab, err = parseVocab(mj.Vocab); err != nil {
		return nil, fmt.Errorf("vocab: %w", err)
	}
	maxID := -1
	for tok, id := range m.vocab {
		if id < 0 || id >= MaxVocab {
			return nil, fmt.Errorf("%w: vocab ids must be in [0, %d)", ErrMalformed, MaxVocab)
		}
		if len(tok) > MaxTokenBytes {
			return nil, fmt.Errorf("%w: vocab token longer than %d bytes", ErrMalformed, MaxTokenBytes)
		}
		maxID = max(maxID, id)
	}
	if maxID >= 2*len(m.vocab)+(1<<16) {
		return nil, fmt.Errorf("%w: vocab ids are sparse (largest %d for %d tokens)", ErrMalformed, maxID, len(m.vocab))
	}
	m.vocabR = make([]string, maxID+1)
	m.known = make([]bool, maxID+1)
	for tok, id := range m.vocab {
		// Two tokens with one id: HF keeps an arbitrary one; keep the
		// smaller string so the result does not depend on map order.
		if !m.known[id] || tok < m.vocabR[id] {
			m.vocabR[id], m.known[id] = tok, true
		}
	}
	if mj.ContinuingSubwordPrefix != nil {
		m.prefix, m.hasPrefix = *mj.ContinuingSubwordPrefix, true
	}
	if mj.EndOfWordSuffix != nil {
		m.suffix, m.hasSuffix = *mj.EndOfWordSuffix, true
	}
	if mj.UnkToken != nil {
		if id, ok := m.vocab[*mj.UnkToken]; ok {
			m.unkID = id
		}
	}
	for b := range m.byteIDs {
		id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]
		if !ok {
			id = -1
		}
		m.byteIDs[b] = id
	}
	pairs, err := parseMerges(mj.Merges)
	if err != nil {
		return nil, err
	}
	if err := m.buildMerges(pairs); err != nil {
		return nil, err
	}
	return m, nil
}

// parseConfig reads what the engine needs from tokenizer_config.json.
func (t *Tokenizer) parseConfig(data []byte) error {
	var c component
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("%w: tokenizer_config.json: %v", ErrMalformed, err)
	}
	var tmpl json.RawMessage
	if err := c.get("chat_template", &tmpl); err != nil {
		return err
	}
	if len(tmpl) > 0 {
		var s string
		if err := json.Unmarshal(tmpl, &s); err == nil {
			t.chatTemplate = s
		} else {
			var named []struct {
				Name     string `json:"name"`
				Template string `json:"template"`
			}
			if err := json.Unmarshal(tmpl, &named); err != nil {
				return fmt.Errorf("%w: chat_template: %v", ErrMalformed, err)
			}
			for _, n := range named {
				if n.Name == "default" {
					t.chatTemplate = n.Template
				}
			}
		}
	}
	var err error
	if t.bosToken, err = configToken(c, "bos_token"); err != nil {
		return err
	}
	if t.eosToken, err = configToken(c, "eos_token"); err != nil {
		return err
	}
	return nil
}

// configToken reads a special token given as a string or as an AddedToken
// object with a "content" field.
func configToken(c component, name string) (string, error) {
	var raw json.RawMessage
	if err := c.get(name, &raw); err != nil || len(raw) == 0 {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	return obj.Content, nil
}
