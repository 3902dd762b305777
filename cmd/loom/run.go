package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/loomai/loom/engine/chat"
	"github.com/loomai/loom/engine/generate"
	"github.com/loomai/loom/engine/tokenizer"
)

const (
	runSynopsis = "run MODEL PROMPT [--chat [--system TEXT]] [--max-tokens N] [--threads N] [--kv-cache f16] [sampling flags]"
	runAbout    = `Generates text with the model in directory MODEL (config.json, safetensors,
tokenizer.json and, for --chat, tokenizer_config.json) and streams it to
stdout. PROMPT is tokenized as is, with the tokenizer's special tokens
(such as BOS) added; with --chat it becomes the single user turn of a
conversation rendered with the model's chat template. A line of statistics
(tokens and tokens per second) goes to stderr at the end. Flags may come
before or after MODEL and PROMPT.`
)

// runRun is `loom run`.
func runRun(args []string, s stdio) error {
	fs := newFlagSet("run")
	useChat := fs.Bool("chat", false, "apply the model's chat template, PROMPT being the user turn")
	system := fs.String("system", "", "system prompt (with --chat)")
	maxTokens := fs.Int("max-tokens", 256, "most tokens to generate")
	threads := fs.Int("threads", 0, "worker threads; 0 means the number of CPUs minus one")
	kvCache := addKVCacheFlag(fs)
	sf := addSamplingFlags(fs)
	pos, err := parseFlags(fs, args, s, runSynopsis, runAbout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 2:
		return usagef("want MODEL and PROMPT, got %d arguments", len(pos))
	case *system != "" && !*useChat:
		return usagef("--system needs --chat")
	case *maxTokens <= 0:
		return usagef("--max-tokens must be positive")
	}
	so, err := sf.options()
	if err != nil {
		return err
	}
	dir, err := modelDir(pos[0], s)
	if err != nil {
		return err
	}
	prompt := pos[1]

	tok, err := tokenizer.LoadFS(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	var ids []int
	if *useChat {
		text, err := renderPrompt(tok, *system, prompt)
		if err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		ids = tok.Encode(text, false) // the template writes any BOS itself
	} else {
		ids = tok.Encode(prompt, true)
	}
	if len(ids) == 0 {
		return errors.New("the prompt is empty")
	}

	m, err := loadModel(dir, *threads, len(ids)+*maxTokens, *kvCache)
	if err != nil {
		return err
	}
	defer m.Close()
	eos, err := eosIDs(dir, m, tok.EOSTokenIDs())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := generate.Run(ctx, m, tok, m.NewCache(0), ids, generate.Options{
		MaxTokens: *maxTokens, EOSTokenIDs: eos, Sample: so,
	}, func(t generate.Token) error {
		_, err := io.WriteString(s.out, t.Text)
		return err
	})
	if isTerminal(s.out) {
		fmt.Fprintln(s.out)
	}
	fmt.Fprintf(s.err, "loom: prompt %d tokens, %.1f tok/s; generated %d tokens, %.1f tok/s; stop: %s\n",
		st.PromptTokens, st.PrefillTokS, st.GeneratedTokens, st.DecodeTokS, st.StopReason)
	return err
}

// renderPrompt renders the conversation [system,] user with the model's
// chat template and the generation prompt.
func renderPrompt(tok *tokenizer.Tokenizer, system, user string) (string, error) {
	var msgs []chat.Message
	if system != "" {
		msgs = append(msgs, chat.Message{Role: "system", Content: system})
	}
	msgs = append(msgs, chat.Message{Role: "user", Content: user})
	return chat.Render(tok.ChatTemplate(), msgs, chat.Options{
		AddGenerationPrompt: true, BOSToken: tok.BOSToken(), EOSToken: tok.EOSToken(),
	})
}

// isTerminal reports whether w is a terminal, where output should end with
// a newline before the statistics line.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
