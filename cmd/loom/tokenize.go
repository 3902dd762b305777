package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/loomai/loom/engine/tokenizer"
)

// maxText bounds the text and id lists read from stdin.
const maxText = 256 << 20

const (
	tokenizeSynopsis = "tokenize --tokenizer FILE [--lines] [--add-special]"
	tokenizeAbout    = `Reads UTF-8 text from stdin and prints its token ids separated by spaces:
by default all of stdin as one text, on one line, like Hugging Face
tokenizers' encode(text, add_special_tokens=False) (special tokens written
in the text are still recognised). FILE is a tokenizer.json; a
tokenizer_config.json next to it is read too.`
	detokenizeSynopsis = "detokenize --tokenizer FILE"
	detokenizeAbout    = `Reads token ids separated by whitespace from stdin and writes their text to
stdout, like Hugging Face tokenizers' decode(ids) (special tokens
included). FILE is a tokenizer.json; a tokenizer_config.json next to it is
read too.`
)

// runTokenize is `loom tokenize`.
func runTokenize(args []string, s stdio) error {
	fs := newFlagSet("tokenize")
	file := fs.String("tokenizer", "", "tokenizer.json `file`")
	lines := fs.Bool("lines", false, "encode each line of stdin (split on \\n, which is left out) on its own output line")
	addSpecial := fs.Bool("add-special", false, "add the tokenizer's special tokens (BOS and the like), as add_special_tokens=True")
	pos, err := parseFlags(fs, args, s, tokenizeSynopsis, tokenizeAbout)
	if err != nil {
		return err
	}
	if err := needTokenizerFlag(*file, pos); err != nil {
		return err
	}
	tok, err := loadTokenizer(*file)
	if err != nil {
		return err
	}
	data, err := readAll(s.in, "stdin", maxText)
	if err != nil {
		return err
	}
	if !utf8.Valid(data) {
		return errors.New("stdin is not valid UTF-8")
	}
	texts := []string{string(data)}
	if *lines {
		texts = splitLines(string(data))
	}
	w := bufio.NewWriter(s.out)
	for _, text := range texts {
		for i, id := range tok.Encode(text, *addSpecial) {
			if i > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(strconv.Itoa(id))
		}
		w.WriteByte('\n')
	}
	return w.Flush()
}

// splitLines splits text on "\n"; a final "\n" ends the last line rather
// than starting an empty one.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// runDetokenize is `loom detokenize`.
func runDetokenize(args []string, s stdio) error {
	fs := newFlagSet("detokenize")
	file := fs.String("tokenizer", "", "tokenizer.json `file`")
	pos, err := parseFlags(fs, args, s, detokenizeSynopsis, detokenizeAbout)
	if err != nil {
		return err
	}
	if err := needTokenizerFlag(*file, pos); err != nil {
		return err
	}
	tok, err := loadTokenizer(*file)
	if err != nil {
		return err
	}
	data, err := readAll(s.in, "stdin", maxText)
	if err != nil {
		return err
	}
	fields := strings.Fields(string(data))
	if len(fields) > maxIDs {
		return fmt.Errorf("more than %d ids on stdin", maxIDs)
	}
	ids := make([]int, len(fields))
	for i, f := range fields {
		id, err := strconv.Atoi(f)
		if err != nil || id < 0 || id >= tok.VocabSize() {
			return fmt.Errorf("id %d (%q) is not in [0, %d)", i, f, tok.VocabSize())
		}
		ids[i] = id
	}
	_, err = io.WriteString(s.out, tok.Decode(ids, false))
	return err
}

// needTokenizerFlag checks the usage shared by tokenize and detokenize.
func needTokenizerFlag(file string, pos []string) error {
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q (input comes from stdin)", pos[0])
	case file == "":
		return usagef("--tokenizer is required")
	}
	return nil
}

// loadTokenizer loads the tokenizer.json at path with the
// tokenizer_config.json of the same folder when there is one.
func loadTokenizer(path string) (*tokenizer.Tokenizer, error) {
	data, err := readFile(path, maxText)
	if err != nil {
		return nil, err
	}
	cfg, err := readFile(filepath.Join(filepath.Dir(path), "tokenizer_config.json"), maxSmallFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	tok, err := tokenizer.Load(data, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return tok, nil
}
