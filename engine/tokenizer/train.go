package tokenizer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrTrain reports training settings that cannot give a tokenizer: a
// vocabulary too small for the byte alphabet and the special tokens, a
// duplicate or empty special token.
var ErrTrain = errors.New("tokenizer: invalid training settings")

// MaxTrainVocab bounds TrainOptions.VocabSize.
const MaxTrainVocab = 1 << 20

// TrainOptions configure TrainBPE.
type TrainOptions struct {
	// VocabSize is the size of the whole vocabulary: the special tokens,
	// the 256 byte symbols and the learned merges. Training stops earlier
	// when no pair occurs MinFrequency times.
	VocabSize int
	// MinFrequency is the fewest occurrences a pair needs to be merged
	// (at least 1; 2 when zero).
	MinFrequency int
	// SpecialTokens get the first ids, in this order, and are never split
	// or merged: text matching one is cut out before pre-tokenization.
	SpecialTokens []string
}

// trainPreTokenizer is SmolLM2's pre-tokenizer: every digit on its own,
// then GPT-2's split regex and byte-to-character mapping.
const trainPreTokenizer = `{"type":"Sequence","pretokenizers":[` +
	`{"type":"Digits","individual_digits":true},` +
	`{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]}`

// TrainBPE learns a byte-level BPE tokenizer from docs and returns its
// tokenizer.json, which Load and Hugging Face tokenizers load alike.
//
// The pipeline is SmolLM2's (and so GPT-2's, with single digits): no
// normalizer; special tokens cut out of the text; each digit split off;
// GPT-2's regex (contractions, letters with an optional leading space,
// numbers, other symbols, whitespace); bytes mapped to GPT-2's printable
// characters; a ByteLevel decoder and post-processor. The words this gives
// for docs (computed by this package's own pipeline, the one Encode runs)
// are counted, and merges are learned as in Hugging Face's BpeTrainer:
// repeatedly the most frequent adjacent pair of symbols, summed over all
// words, is merged into a new symbol, until the vocabulary is full.
//
// Ids: the special tokens 0..k-1, then the 256 byte symbols ordered by
// their characters' code points, then the merges in the order learned.
// Ties between equally frequent pairs go to the pair with the smaller
// (left id, right id), and within a word a pair is merged left to right.
// The result depends only on docs and o: never on map order or threads.
func TrainBPE(docs []string, o TrainOptions) ([]byte, error) {
	if o.MinFrequency == 0 {
		o.MinFrequency = 2
	}
	nSpecial := len(o.SpecialTokens)
	if o.VocabSize < nSpecial+256 || o.VocabSize > MaxTrainVocab || o.MinFrequency < 1 {
		return nil, fmt.Errorf("%w: vocabulary %d (at least %d special and byte tokens, at most %d), min frequency %d",
			ErrTrain, o.VocabSize, nSpecial+256, MaxTrainVocab, o.MinFrequency)
	}
	seen := make(map[string]bool, nSpecial)
	for _, s := range o.SpecialTokens {
		if s == "" || seen[s] || !utf8.ValidString(s) || len(s) > MaxTokenBytes {
			return nil, fmt.Errorf("%w: special token %q is empty, repeated, too long or not UTF-8", ErrTrain, s)
		}
		seen[s] = true
	}

	// The symbols: special tokens, then the byte alphabet by code point.
	alphabet := make([]string, 256)
	copy(alphabet, byteToChar[:])
	slices.SortFunc(alphabet, func(a, b string) int {
		ra, _ := utf8.DecodeRuneInString(a)
		rb, _ := utf8.DecodeRuneInString(b)
		return cmp.Compare(ra, rb)
	})
	symbols := append(append([]string(nil), o.SpecialTokens...), alphabet...)
	charID := make(map[rune]int32, 256)
	for i, s := range alphabet {
		r, _ := utf8.DecodeRuneInString(s)
		charID[r] = int32(nSpecial + i)
	}

	// A tokenizer with no merges runs the pipeline that cuts docs into
	// words, so that training sees exactly what Encode will.
	skeleton, err := tokenizerJSON(symbols, nil, o.SpecialTokens)
	if err != nil {
		return nil, err
	}
	pipe, err := Load(skeleton, nil)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: training pipeline: %w", err)
	}
	counts := make(map[string]int64)
	sc := &scratch{}
	for _, doc := range docs {
		if !utf8.ValidString(doc) {
			doc = lossyUTF8([]byte(doc))
		}
		pieces := pipe.added.extract(doc, pipe.norm)
		pieces = runPreTokenizer(pipe.preTok, pieces, sc)
		for _, p := range pieces {
			if p.id < 0 && p.text != "" {
				counts[p.text]++
			}
		}
	}
	wordTexts := make([]string, 0, len(counts))
	for w := range counts {
		wordTexts = append(wordTexts, w)
	}
	sort.Strings(wordTexts)
	words := make([]trainWord, len(wordTexts))
	for i, w := range wordTexts {
		syms := make([]int32, 0, utf8.RuneCountInString(w))
		for _, r := range w {
			syms = append(syms, charID[r])
		}
		words[i] = trainWord{syms: syms, count: counts[w]}
	}

	merges := learnMerges(words, &symbols, o.VocabSize, int64(o.MinFrequency))
	return tokenizerJSON(symbols, merges, o.SpecialTokens)
}

// trainWord is one distinct pre-tokenized word: its current symbols and
// how often it occurs.
type trainWord struct {
	syms  []int32
	count int64
}

// pairCount is a heap entry: a pair and its count when pushed. Entries go
// stale when the count changes; a popped entry is used only if its count
// is still current.
type pairCount struct {
	pair  uint64 // left<<32 | right
	count int64
}

// before orders the pair heap: larger count first, then the smaller pair.
func (a pairCount) before(b pairCount) bool {
	if a.count != b.count {
		return a.count > b.count
	}
	return a.pair < b.pair
}

func pairOf(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// learnMerges merges pairs of words' symbols until symbols holds
// vocabSize entries or no pair occurs minFreq times, appending each new
// symbol to symbols and returning the merges in order.
func learnMerges(words []trainWord, symbols *[]string, vocabSize int, minFreq int64) [][2]string {
	counts := make(map[uint64]int64)
	where := make(map[uint64][]int32) // words holding the pair (may list a word twice, or no longer hold it)
	for wi, w := range words {
		for k := 0; k+1 < len(w.syms); k++ {
			p := pairOf(w.syms[k], w.syms[k+1])
			counts[p] += w.count
			where[p] = append(where[p], int32(wi))
		}
	}
	h := make(heap[pairCount], 0, len(counts))
	for p, c := range counts {
		h = append(h, pairCount{p, c})
	}
	// Heapify (any valid heap of the same entries pops in the same order,
	// since the order is total).
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}

	var merges [][2]string
	changed := make(map[uint64]bool)
	for len(*symbols) < vocabSize && len(h) > 0 {
		top := h.pop()
		if counts[top.pair] != top.count {
			continue // stale
		}
		if top.count < minFreq {
			break
		}
		a, b := int32(top.pair>>32), int32(uint32(top.pair))
		id := int32(len(*symbols))
		*symbols = append(*symbols, (*symbols)[a]+(*symbols)[b])
		merges = append(merges, [2]string{(*symbols)[a], (*symbols)[b]})

		list := where[top.pair]
		delete(where, top.pair)
		clear(changed)
		done := make(map[int32]bool, len(list))
		for _, wi := range list {
			if done[wi] {
				continue
			}
			done[wi] = true
			w := &words[wi]
			if !hasPair(w.syms, a, b) {
				continue
			}
			for k := 0; k+1 < len(w.syms); k++ {
				p := pairOf(w.syms[k], w.syms[k+1])
				counts[p] -= w.count
				changed[p] = true
			}
			w.syms = mergePair(w.syms, a, b, id)
			for k := 0; k+1 < len(w.syms); k++ {
				p := pairOf(w.syms[k], w.syms[k+1])
				counts[p] += w.count
				changed[p] = true
				if w.syms[k] == id || w.syms[k+1] == id {
					where[p] = append(where[p], wi)
				}
			}
		}
		// Push the new counts in pair order, so the heap's layout does not
		// depend on map order either.
		keys := make([]uint64, 0, len(changed))
		for p := range changed {
			keys = append(keys, p)
		}
		slices.Sort(keys)
		for _, p := range keys {
			if c := counts[p]; c > 0 {
				h.push(pairCount{p, c})
			} else {
				delete(counts, p)
			}
		}
	}
	return merges
}

// hasPair reports whether a is directly followed by b in syms.
func hasPair(syms []int32, a, b int32) bool {
	for k := 0; k+1 < len(syms); k++ {
		if syms[k] == a && syms[k+1] == b {
			return true
		}
	}
	return false
}

// mergePair replaces every occurrence of a followed by b in syms, left to
// right, by id, in place.
func mergePair(syms []int32, a, b, id int32) []int32 {
	out := syms[:0]
	for k := 0; k < len(syms); k++ {
		if k+1 < len(syms) && syms[k] == a && syms[k+1] == b {
			out = append(out, id)
			k++
			continue
		}
		out = append(out, syms[k])
	}
	return out
}

// tokenizerJSON writes tokenizer.json for a byte-level BPE with the given
// symbols (ids in order; the special tokens first), merges and special
// tokens, with the vocabulary in id order as Hugging Face writes it.
func tokenizerJSON(symbols []string, merges [][2]string, special []string) ([]byte, error) {
	type addedJSON struct {
		ID         int    `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		LStrip     bool   `json:"lstrip"`
		RStrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	}
	added := make([]addedJSON, len(special))
	for i, s := range special {
		added[i] = addedJSON{ID: i, Content: s, Special: true}
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	for i, a := range added {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		if err := writeJSONValue(&b, a); err != nil {
			return nil, err
		}
	}
	b.WriteString("\n  ]")
	b.WriteString(",\n  \"normalizer\": null,\n  \"pre_tokenizer\": " + trainPreTokenizer)
	b.WriteString(",\n  \"post_processor\": {\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":false,\"use_regex\":true}")
	b.WriteString(",\n  \"decoder\": {\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true}")
	b.WriteString(",\n  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n" +
		"    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n" +
		"    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {")
	for i, s := range symbols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      ")
		if err := writeJSONValue(&b, s); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, ": %d", i)
	}
	b.WriteString("\n    },\n    \"merges\": [")
	for i, m := range merges {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n      ")
		if err := writeJSONValue(&b, m); err != nil {
			return nil, err
		}
	}
	b.WriteString("\n    ]\n  }\n}\n")
	return b.Bytes(), nil
}

// writeJSONValue appends v as compact JSON without HTML escaping.
func writeJSONValue(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("tokenizer: %w", err)
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// ChatMLTemplate returns the ChatML chat template (the format of SmolLM2,
// Qwen and many others) over <|im_start|> and <|im_end|>:
//
//	<|im_start|>{role}\n{content}<|im_end|>\n   for every message
//	<|im_start|>assistant\n                     with add_generation_prompt
//
// A non-empty defaultSystem is inserted as a system message when the
// conversation does not start with one. It is template text, so it may
// not contain Jinja delimiters ("{{", "{%", "{#") or "<|im_".
func ChatMLTemplate(defaultSystem string) (string, error) {
	for _, bad := range []string{"{{", "{%", "{#", "<|im_"} {
		if strings.Contains(defaultSystem, bad) {
			return "", fmt.Errorf("%w: default system prompt contains %q", ErrTrain, bad)
		}
	}
	t := ""
	if defaultSystem != "" {
		t = "{% if not messages or messages[0]['role'] != 'system' %}<|im_start|>system\n" + defaultSystem + "<|im_end|>\n{% endif %}"
	}
	t += "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
		"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
	return t, nil
}

// ConfigOptions describe tokenizer_config.json for a trained tokenizer.
type ConfigOptions struct {
	// SpecialTokens are the trained tokenizer's special tokens, ids
	// 0..len-1, as given to TrainBPE.
	SpecialTokens []string
	// BOS, EOS, PAD and UNK name special tokens (or are empty).
	BOS, EOS, PAD, UNK string
	// ChatTemplate is the Jinja chat template ("" for none).
	ChatTemplate string
	// ModelMaxLength is the model's context length.
	ModelMaxLength int
}

// ConfigJSON returns tokenizer_config.json as transformers writes it for a
// byte-level BPE tokenizer (PreTrainedTokenizerFast loads tokenizer.json
// next to it).
func ConfigJSON(o ConfigOptions) ([]byte, error) {
	decoder := make(map[string]any, len(o.SpecialTokens))
	ids := make(map[string]bool, len(o.SpecialTokens))
	for i, s := range o.SpecialTokens {
		decoder[strconv.Itoa(i)] = map[string]any{
			"content": s, "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true,
		}
		ids[s] = true
	}
	c := map[string]any{
		"add_prefix_space":             false,
		"added_tokens_decoder":         decoder,
		"clean_up_tokenization_spaces": false,
		"model_max_length":             o.ModelMaxLength,
		"tokenizer_class":              "PreTrainedTokenizerFast",
	}
	extra := []string{}
	named := map[string]bool{}
	for _, kv := range [][2]string{{"bos_token", o.BOS}, {"eos_token", o.EOS}, {"pad_token", o.PAD}, {"unk_token", o.UNK}} {
		key, tok := kv[0], kv[1]
		if tok == "" {
			c[key] = nil
			continue
		}
		if !ids[tok] {
			return nil, fmt.Errorf("%w: %s %q is not a special token", ErrTrain, key, tok)
		}
		c[key] = tok
		named[tok] = true
	}
	for _, s := range o.SpecialTokens {
		if !named[s] {
			extra = append(extra, s)
		}
	}
	c["additional_special_tokens"] = extra
	if o.ChatTemplate != "" {
		c["chat_template"] = o.ChatTemplate
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(c); err != nil { // map keys come out sorted
		return nil, fmt.Errorf("tokenizer: %w", err)
	}
	return b.Bytes(), nil
}
