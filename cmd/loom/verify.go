package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loomai/loom/engine/audit"
	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/generate"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/engine/tokenizer"
)

const (
	verifySynopsis = "verify MODEL (--prompt TEXT [--chat [--system TEXT]] | --ids 1,2,3) [--max-tokens N] [--greedy | sampling flags] [--quantize q8] [--kv-cache f16] [--threads N]"
	verifyAbout    = `Generates like 'loom run' (or like 'loom generate' with --ids) and prints
what identifies the run, one line each:

  model_sha256 HEX    config, generation config, tokenizer files and weights
  input_sha256 HEX    the prompt and every option that changes the output
  ids N N ...         the generated token ids (a final EOS id included)
  logits_sha256 HEX   the float32 bits of every logit vector sampled from
  text "..."          the generated text, JSON-quoted (only with a tokenizer)

Loom's CPU engine gives the same ids and logits, bit for bit, on every
platform and thread count, so two runs with equal model and input hashes
must print equal lines; --threads is left out of input_sha256 on purpose.
The encodings are documented in the engine/audit package and in
docs/determinism.md.`
)

// runVerify is `loom verify`.
func runVerify(args []string, s stdio) error {
	fs := newFlagSet("verify")
	prompt := fs.String("prompt", "", "prompt `text`, tokenized with the tokenizer's special tokens (such as BOS) added")
	list := fs.String("ids", "", "comma-separated prompt token `ids`, instead of --prompt (no tokenizer needed)")
	useChat := fs.Bool("chat", false, "apply the model's chat template, --prompt being the user turn")
	system := fs.String("system", "", "system prompt (with --chat)")
	maxTokens := fs.Int("max-tokens", 16, "most tokens to generate")
	greedy := fs.Bool("greedy", false, "always take the most likely token (overrides the sampling flags)")
	threads := fs.Int("threads", 0, "worker threads; 0 means the number of CPUs minus one")
	quant := addQuantizeFlag(fs)
	kvCache := addKVCacheFlag(fs)
	sf := addSamplingFlags(fs)
	pos, err := parseFlags(fs, args, s, verifySynopsis, verifyAbout)
	if err != nil {
		return err
	}
	promptSet := false
	fs.Visit(func(f *flag.Flag) { promptSet = promptSet || f.Name == "prompt" })
	switch {
	case len(pos) != 1:
		return usagef("want MODEL, got %d arguments", len(pos))
	case promptSet == (*list != ""):
		return usagef("give exactly one of --prompt and --ids")
	case *useChat && !promptSet:
		return usagef("--chat needs --prompt")
	case *system != "" && !*useChat:
		return usagef("--system needs --chat")
	case *maxTokens <= 0:
		return usagef("--max-tokens must be positive")
	}
	so, err := sf.options()
	if err != nil {
		return err
	}
	if *greedy {
		so = sample.Options{} // the zero value is greedy, without penalties
	}
	dir, err := modelDir(pos[0], s)
	if err != nil {
		return err
	}
	in := audit.Input{Prompt: *prompt, Chat: *useChat, System: *system, MaxTokens: *maxTokens, Sample: so, Quantize: *quant, KVCache: *kvCache}
	if *list != "" {
		if in.IDs, err = parseIDs(*list); err != nil {
			return usagef("--ids: %v", err)
		}
	}

	tok, err := optionalTokenizer(dir, promptSet)
	if err != nil {
		return err
	}
	ids := in.IDs
	if promptSet {
		if ids, err = promptIDs(tok, in); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
	}
	modelSum, err := audit.ModelSHA256(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	cfg, err := config.Load(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	m, err := model.Load(dir, model.Options{
		Threads: *threads, ContextLength: min(len(ids)+*maxTokens, cfg.MaxPositionEmbeddings), Quantize: *quant,
		KVCache: *kvCache,
	})
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	defer m.Close()
	var extraEOS []int
	if tok != nil {
		extraEOS = tok.EOSTokenIDs()
	}
	eos, err := eosIDs(dir, m, extraEOS)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logits := audit.NewLogitsHash()
	var out []string
	var text strings.Builder
	_, err = generate.Run(ctx, m, tok, m.NewCache(0), ids, generate.Options{
		MaxTokens: *maxTokens, EOSTokenIDs: eos, Sample: so, OnLogits: logits.Add,
	}, func(t generate.Token) error {
		out = append(out, strconv.Itoa(t.ID))
		text.WriteString(t.Text)
		return nil
	})
	if err != nil {
		return err
	}
	lines := []string{
		"model_sha256 " + modelSum,
		"input_sha256 " + in.SHA256(),
		"ids " + strings.Join(out, " "),
		"logits_sha256 " + logits.Sum(),
	}
	if tok != nil {
		quoted, err := jsonString(text.String())
		if err != nil {
			return err
		}
		lines = append(lines, "text "+quoted)
	}
	_, err = fmt.Fprintln(s.out, strings.Join(lines, "\n"))
	return err
}

// optionalTokenizer loads the model's tokenizer; without tokenizer.json it
// returns nil, which is an error only when a text prompt needs one.
func optionalTokenizer(dir string, required bool) (*tokenizer.Tokenizer, error) {
	_, err := os.Stat(filepath.Join(dir, audit.TokenizerFile))
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil, nil
	}
	tok, err := tokenizer.LoadFS(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return tok, nil
}

// promptIDs tokenizes a text prompt as `loom run` does.
func promptIDs(tok *tokenizer.Tokenizer, in audit.Input) ([]int, error) {
	var ids []int
	if in.Chat {
		text, err := renderPrompt(tok, in.System, in.Prompt)
		if err != nil {
			return nil, err
		}
		ids = tok.Encode(text, false) // the template writes any BOS itself
	} else {
		ids = tok.Encode(in.Prompt, true)
	}
	if len(ids) == 0 {
		return nil, errors.New("the prompt is empty")
	}
	return ids, nil
}

// jsonString quotes s as a JSON string, leaving <, > and & as they are.
func jsonString(s string) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
