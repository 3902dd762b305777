package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/engine/train"
)

// maxCorpusFile bounds each corpus file read whole.
const maxCorpusFile = 1 << 30

const (
	trainTokenizerSynopsis = "train-tokenizer --out DIR [--vocab-size N] [--chat FILE.jsonl]... [--separator LINE] [TEXT FILE]..."
	trainTokenizerAbout    = `Trains a byte-level BPE tokenizer (SmolLM2's pipeline: single digits, GPT-2's
split regex and byte mapping) on the text files and chat conversations given,
and writes DIR/tokenizer.json (loadable by Hugging Face tokenizers and Loom)
and DIR/tokenizer_config.json with a ChatML chat template. The special tokens
<|endoftext|>, <|im_start|> and <|im_end|> get ids 0, 1 and 2. Each text file
is one document, or several separated by lines equal to --separator. Each
line of a --chat file is a conversation {"messages": [{"role", "content"}]},
rendered through the ChatML template. Training is deterministic: ties between
equally frequent pairs go to the pair of smaller ids.`
)

// Special tokens of a Loom-trained tokenizer, in id order.
var loomSpecialTokens = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// corpusFlags are the corpus inputs shared by train-tokenizer and train.
type corpusFlags struct {
	chats     multiFlag
	separator string
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// documents reads the text files (split at the separator) and renders the
// chat files through template, in the order given: texts first, then chats.
func (c *corpusFlags) documents(texts []string, template string) ([]string, error) {
	var docs []string
	for _, path := range texts {
		data, err := readFile(path, maxCorpusFile)
		if err != nil {
			return nil, err
		}
		d, err := train.TextDocuments(string(data), c.separator)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		docs = append(docs, d...)
	}
	for _, path := range c.chats {
		data, err := readFile(path, maxCorpusFile)
		if err != nil {
			return nil, err
		}
		d, err := train.ChatDocuments(data, template, chat.Options{})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		docs = append(docs, d...)
	}
	if len(docs) == 0 {
		return nil, usagef("no training text: give text files or --chat files")
	}
	return docs, nil
}

// runTrainTokenizer is `loom train-tokenizer`.
func runTrainTokenizer(args []string, s stdio) error {
	fs := newFlagSet("train-tokenizer")
	out := fs.String("out", "", "output `dir` (created if needed)")
	vocab := fs.Int("vocab-size", 8192, "vocabulary size, special tokens and the 256 byte tokens included")
	minFreq := fs.Int("min-frequency", 2, "fewest occurrences of a pair that is merged")
	system := fs.String("system-prompt", "", "default system prompt the chat template inserts when a conversation has none")
	context := fs.Int("model-max-length", 2048, "context length recorded in tokenizer_config.json")
	var c corpusFlags
	fs.Var(&c.chats, "chat", "JSONL `file` of conversations (repeatable)")
	fs.StringVar(&c.separator, "separator", "", "`line` that separates documents in the text files")
	pos, err := parseFlags(fs, args, s, trainTokenizerSynopsis, trainTokenizerAbout)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out is required")
	}
	if *minFreq < 1 || *context < 1 {
		return usagef("--min-frequency and --model-max-length must be at least 1")
	}
	template, err := tokenizer.ChatMLTemplate(*system)
	if err != nil {
		return usagef("%v", err)
	}
	docs, err := c.documents(pos, template)
	if err != nil {
		return err
	}
	tj, err := tokenizer.TrainBPE(docs, tokenizer.TrainOptions{VocabSize: *vocab, MinFrequency: *minFreq, SpecialTokens: loomSpecialTokens})
	if errors.Is(err, tokenizer.ErrTrain) {
		return usagef("%v", err)
	}
	if err != nil {
		return err
	}
	cj, err := tokenizer.ConfigJSON(tokenizer.ConfigOptions{
		SpecialTokens: loomSpecialTokens,
		BOS:           "<|im_start|>", EOS: "<|im_end|>", PAD: "<|endoftext|>", UNK: "<|endoftext|>",
		ChatTemplate: template, ModelMaxLength: *context,
	})
	if err != nil {
		return err
	}
	tok, err := tokenizer.Load(tj, cj)
	if err != nil {
		return fmt.Errorf("the trained tokenizer does not load: %w", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(filepath.Join(*out, "tokenizer.json"), tj); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(filepath.Join(*out, "tokenizer_config.json"), cj); err != nil {
		return err
	}
	fmt.Fprintf(s.err, "trained a %d-token tokenizer on %d documents into %s\n", tok.VocabSize(), len(docs), *out)
	return nil
}
