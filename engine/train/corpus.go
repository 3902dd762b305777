package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/tokenizer"
)

// ErrCorpus reports training text that cannot be used: invalid UTF-8, a
// malformed chat line, a conversation the template rejects.
var ErrCorpus = errors.New("train: bad corpus")

// MaxCorpusTokens bounds the token stream of a corpus (the stream is held
// in memory as int32).
const MaxCorpusTokens = 1 << 30

// TextDocuments splits a text file into documents at lines equal to sep
// (the separator lines are dropped, as is the newline before each); an
// empty sep makes the whole text one document. Empty documents are
// dropped.
func TextDocuments(text, sep string) ([]string, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("train: text is not valid UTF-8: %w", ErrCorpus)
	}
	if sep == "" {
		if text == "" {
			return nil, nil
		}
		return []string{text}, nil
	}
	var docs []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			docs = append(docs, strings.TrimSuffix(cur.String(), "\n"))
			cur.Reset()
		}
	}
	for line := range strings.Lines(text) {
		if strings.TrimRight(line, "\r\n") == sep {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs, nil
}

// chatLine is one line of a chat JSONL file.
type chatLine struct {
	Messages []chat.Message `json:"messages"`
}

// ChatDocuments renders every line of a JSONL file of conversations,
// {"messages": [{"role": ..., "content": ...}, ...]}, through the chat
// template (engine/chat, as transformers' apply_chat_template without a
// generation prompt), one document per conversation. Blank lines are
// skipped.
func ChatDocuments(jsonl []byte, template string, o chat.Options) ([]string, error) {
	var docs []string
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c chatLine
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("train: chat line %d: %v: %w", n, err, ErrCorpus)
		}
		if len(c.Messages) == 0 {
			return nil, fmt.Errorf("train: chat line %d has no messages: %w", n, ErrCorpus)
		}
		text, err := chat.Render(template, c.Messages, o)
		if err != nil {
			return nil, fmt.Errorf("train: chat line %d: %w: %w", n, ErrCorpus, err)
		}
		docs = append(docs, text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("train: chat file: %v: %w", err, ErrCorpus)
	}
	return docs, nil
}

// TokenStream encodes every document (special tokens written in the text
// are recognised, as in chat-rendered text) and concatenates them, each
// followed by the separator id sep (usually <|endoftext|>), into one
// stream for Split.
func TokenStream(tok *tokenizer.Tokenizer, docs []string, sep int) ([]int32, error) {
	if sep < 0 || sep >= tok.VocabSize() {
		return nil, fmt.Errorf("train: separator id %d outside the vocabulary of %d: %w", sep, tok.VocabSize(), ErrToken)
	}
	var stream []int32
	for _, d := range docs {
		ids := tok.Encode(d, false)
		if len(ids)+1 > MaxCorpusTokens-len(stream) {
			return nil, fmt.Errorf("train: corpus over %d tokens: %w", MaxCorpusTokens, ErrCorpus)
		}
		for _, id := range ids {
			stream = append(stream, int32(id))
		}
		stream = append(stream, int32(sep))
	}
	return stream, nil
}
