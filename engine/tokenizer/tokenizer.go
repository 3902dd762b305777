// Package tokenizer loads Hugging Face tokenizer.json files (BPE models,
// byte-level and SentencePiece style) and encodes and decodes text exactly
// as the Hugging Face tokenizers library does.
//
// The pipeline mirrors HF's: added tokens are cut out of the raw text (and,
// for normalized added tokens, out of each normalized part), the remaining
// parts are normalized, pre-tokenized and split into ids by the BPE model,
// and a post-processor adds special tokens. Decoding runs HF's decoder
// chain; StreamDecoder decodes one id at a time for streaming generation.
// Regular expressions in the file run on an Oniguruma-compatible engine
// (internal/rx), the engine HF itself uses.
//
// Supported components: normalizers NFC, NFD, NFKC, NFKD, Lowercase, Strip,
// StripAccents, Replace, Prepend, Nmt, ByteLevel and Sequence;
// pre-tokenizers Split, ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, BertPreTokenizer, CharDelimiterSplit and
// Sequence; the BPE model; decoders ByteLevel, Metaspace, Replace,
// ByteFallback, Fuse, Strip, BPEDecoder and Sequence; post-processors
// TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing and
// Sequence. Anything else (Unigram, WordPiece, Precompiled, BertNormalizer,
// UnicodeScripts, ...) is rejected by Load with ErrUnsupported naming it.
//
// Differences from HF, all where HF fails or the file is unusual:
// truncation and padding settings are ignored (transformers also disables
// them unless asked); invalid UTF-8 input is first replaced as
// String::from_utf8_lossy does; an unk_token missing from the vocabulary
// drops unknown characters where HF returns an error; decoders that panic
// in HF on empty tokens return empty strings. tokenizer_config.json only
// supplies the chat template and the BOS/EOS tokens: like tokenizers'
// encode, Encode does not apply add_bos_token or add_eos_token. Unicode
// tables are Go's (Unicode 15.0), so characters assigned later may be
// classified differently.
package tokenizer

import (
	"errors"
	"unicode/utf8"
)

// ErrMalformed reports a tokenizer.json or tokenizer_config.json that is
// not valid or breaks one of the size limits.
var ErrMalformed = errors.New("tokenizer: malformed tokenizer file")

// ErrUnsupported reports a component type or option this package does not
// implement; the error text names it.
var ErrUnsupported = errors.New("tokenizer: unsupported tokenizer component")

// Tokenizer encodes text to token ids and back. It is safe for concurrent
// use.
type Tokenizer struct {
	added     *addedVocab
	norm      normalizer     // nil when absent
	preTok    []preTokenizer // stages, applied in order
	model     *bpe
	post      postProcessor // nil when absent
	dec       decoder       // nil when absent
	vocabSize int
	// byteFallback and byteLevel are set when the decoder chain has a
	// ByteFallback or a ByteLevel step.
	byteFallback, byteLevel bool

	chatTemplate string
	bosToken     string
	eosToken     string
}

// Encode returns the ids of text, as HF's Tokenizer.encode(text,
// add_special_tokens=addSpecial).ids.
func (t *Tokenizer) Encode(text string, addSpecial bool) []int {
	if !utf8.ValidString(text) {
		text = lossyUTF8([]byte(text))
	}
	ids := make([]int, 0, len(text)/3+4)
	var sc scratch
	for _, p := range t.added.extract(text, t.norm) {
		if p.id >= 0 {
			ids = append(ids, p.id)
			continue
		}
		for _, q := range sc.preTokenizePiece(t.preTok, p) {
			ids = t.model.tokenize(ids, q.text)
		}
	}
	if t.post != nil {
		ids = t.post.process(ids, addSpecial)
	}
	return ids
}

// tokenString is the string HF's decode starts from for id: the added
// token (in normalized form when it is normalized) or the model's token.
func (t *Tokenizer) tokenString(id int) (string, bool) {
	if s, ok := t.added.decodeToken(id); ok {
		return s, true
	}
	if id >= 0 && id < len(t.model.vocabR) && t.model.known[id] {
		return t.model.vocabR[id], true
	}
	return "", false
}

// Decode returns the text of ids as HF's Tokenizer.decode(ids,
// skip_special_tokens=skipSpecial). Unknown ids are skipped.
func (t *Tokenizer) Decode(ids []int, skipSpecial bool) string {
	tokens := make([]string, 0, len(ids))
	for _, id := range ids {
		s, ok := t.tokenString(id)
		if !ok || skipSpecial && t.added.special[s] {
			continue
		}
		tokens = append(tokens, s)
	}
	if t.dec == nil {
		return joinSpace(tokens)
	}
	out := t.dec.decodeChain(tokens)
	n := 0
	for _, s := range out {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for _, s := range out {
		b = append(b, s...)
	}
	return string(b)
}

func joinSpace(tokens []string) string {
	n := 0
	for _, s := range tokens {
		n += len(s) + 1
	}
	b := make([]byte, 0, n)
	for i, s := range tokens {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return string(b)
}

// VocabSize returns the size of the id space: one more than the largest id
// of the model vocabulary, the added tokens and the post-processor's
// special tokens, so every id Encode returns is below it. For the usual
// files, whose ids have no gaps, it equals HF's
// get_vocab_size(with_added_tokens=True).
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// TokenID returns the id of a token string, looking at added tokens first
// as HF's token_to_id does.
func (t *Tokenizer) TokenID(s string) (int, bool) {
	if id, ok := t.added.byContent[s]; ok {
		return id, true
	}
	id, ok := t.model.vocab[s]
	return id, ok
}

// Token returns the token string of id as HF's id_to_token does, or "" for
// an unknown id.
func (t *Tokenizer) Token(id int) string {
	s, _ := t.tokenString(id)
	return s
}

// ChatTemplate returns tokenizer_config.json's chat_template (the "default"
// one when the file lists several), or "".
func (t *Tokenizer) ChatTemplate() string { return t.chatTemplate }

// BOSToken returns tokenizer_config.json's bos_token, or "".
func (t *Tokenizer) BOSToken() string { return t.bosToken }

// EOSToken returns tokenizer_config.json's eos_token, or "".
func (t *Tokenizer) EOSToken() string { return t.eosToken }

// EOSTokenIDs returns the id of the eos_token when the tokenizer knows it
// (generation_config.json may list more end-of-sequence ids).
func (t *Tokenizer) EOSTokenIDs() []int {
	if t.eosToken == "" {
		return nil
	}
	if id, ok := t.TokenID(t.eosToken); ok {
		return []int{id}
	}
	return nil
}
