package main

import (
	"bufio"
	"context"
	"os"
	"os/signal"
	"strconv"

	"github.com/loomai/loom/engine/generate"
	"github.com/loomai/loom/engine/sample"
)

const (
	generateSynopsis = "generate --model DIR --ids 1,2,3 [--max-tokens N] [--greedy | sampling flags] [--threads N] [--kv-cache f16]"
	generateAbout    = `Continues the prompt ids with the model in DIR (config.json and safetensors;
no tokenizer needed) and prints the generated ids on one line, separated by
spaces. Generation stops after --max-tokens tokens or at an end-of-sequence
id (config.json / generation_config.json), which is printed too.`
)

// runGenerate is `loom generate`.
func runGenerate(args []string, s stdio) error {
	fs := newFlagSet("generate")
	dir := fs.String("model", "", "model `directory` or Hugging Face repo id (org/name[@rev])")
	list := fs.String("ids", "", "comma-separated prompt token `ids`")
	maxTokens := fs.Int("max-tokens", 20, "most tokens to generate")
	greedy := fs.Bool("greedy", false, "always take the most likely token (overrides the sampling flags)")
	threads := fs.Int("threads", 0, "worker threads; 0 means the number of CPUs minus one")
	kvCache := addKVCacheFlag(fs)
	sf := addSamplingFlags(fs)
	pos, err := parseFlags(fs, args, s, generateSynopsis, generateAbout)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return usagef("unexpected argument %q", pos[0])
	case *dir == "" || *list == "":
		return usagef("--model and --ids are required")
	case *maxTokens <= 0:
		return usagef("--max-tokens must be positive")
	}
	ids, err := parseIDs(*list)
	if err != nil {
		return usagef("--ids: %v", err)
	}
	so, err := sf.options()
	if err != nil {
		return err
	}
	if *greedy {
		so = sample.Options{} // the zero value is greedy, without penalties
	}
	mdir, err := modelDir(*dir, s)
	if err != nil {
		return err
	}
	m, err := loadModel(mdir, *threads, len(ids)+*maxTokens, *kvCache)
	if err != nil {
		return err
	}
	defer m.Close()
	eos, err := eosIDs(mdir, m, nil)
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	w := bufio.NewWriter(s.out)
	first := true
	_, err = generate.Run(ctx, m, nil, m.NewCache(0), ids, generate.Options{
		MaxTokens: *maxTokens, EOSTokenIDs: eos, Sample: so,
	}, func(t generate.Token) error {
		if !first {
			w.WriteByte(' ')
		}
		first = false
		w.WriteString(strconv.Itoa(t.ID))
		return nil
	})
	w.WriteByte('\n')
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return err
}
