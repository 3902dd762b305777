package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/tokenizer"
)

const (
	chatTemplateSynopsis = "chat-template --model DIR"
	chatTemplateAbout    = `Reads a conversation from stdin, a JSON array of {"role": ..., "content": ...}
objects, and writes it rendered with the chat template of the model in DIR
(tokenizer.json and tokenizer_config.json), with the generation prompt
added, as transformers' apply_chat_template(messages, tokenize=False,
add_generation_prompt=True) does.`
)

// runChatTemplate is `loom chat-template`.
func runChatTemplate(args []string, s stdio) error {
	fs := newFlagSet("chat-template")
	dir := fs.String("model", "", "model `directory`")
	pos, err := parseFlags(fs, args, s, chatTemplateSynopsis, chatTemplateAbout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q (the conversation comes from stdin)", pos[0])
	case *dir == "":
		return usagef("--model is required")
	}
	data, err := readAll(s.in, "stdin", maxSmallFile)
	if err != nil {
		return err
	}
	msgs, err := parseConversation(data)
	if err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	tok, err := tokenizer.LoadFS(os.DirFS(*dir))
	if err != nil {
		return fmt.Errorf("%s: %w", *dir, err)
	}
	text, err := chat.Render(tok.ChatTemplate(), msgs, chat.Options{
		AddGenerationPrompt: true, BOSToken: tok.BOSToken(), EOSToken: tok.EOSToken(),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", *dir, err)
	}
	_, err = io.WriteString(s.out, text)
	return err
}

// parseConversation decodes a JSON array of messages, each with a string
// role and a string content and nothing else.
func parseConversation(data []byte) ([]chat.Message, error) {
	var raw []map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("want a JSON array of {\"role\", \"content\"} objects: %w", err)
	}
	if d.More() {
		return nil, errors.New("unexpected data after the JSON array")
	}
	msgs := make([]chat.Message, len(raw))
	for i, m := range raw {
		if len(m) != 2 {
			return nil, fmt.Errorf("message %d: want exactly the fields role and content, got %d fields", i, len(m))
		}
		for _, f := range []struct {
			key string
			dst *string
		}{{"role", &msgs[i].Role}, {"content", &msgs[i].Content}} {
			v, ok := m[f.key]
			if !ok {
				return nil, fmt.Errorf("message %d: no %s", i, f.key)
			}
			if err := json.Unmarshal(v, f.dst); err != nil || bytes.Equal(v, []byte("null")) {
				return nil, fmt.Errorf("message %d: %s is not a string", i, f.key)
			}
		}
	}
	return msgs, nil
}
