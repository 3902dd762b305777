package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/engine/model"
	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/hub"
)

// maxIDs bounds the ids accepted on a command line or on stdin.
const maxIDs = 1 << 20

// maxSmallFile bounds the JSON side files read whole (generation_config.json,
// tokenizer_config.json, a conversation on stdin).
const maxSmallFile = 16 << 20

// newFlagSet returns a FlagSet for command name that returns errors to the
// caller instead of printing them (parseFlags prints one line, or the usage
// text for -h).
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// usageText is the -h text of a command: synopsis, description and flags.
func usageText(fs *flag.FlagSet, synopsis, about string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: loom %s\n\n%s\n", synopsis, about)
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\nflags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return b.String()
}

// parseFlags parses args into fs and returns the positional arguments,
// which may come before, between or after the flags ("--" ends the flags).
// -h prints the usage text to s.out and returns errHelp; a bad flag is a
// usageError.
func parseFlags(fs *flag.FlagSet, args []string, s stdio, synopsis, about string) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(s.out, usageText(fs, synopsis, about))
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		consumed := args[:len(args)-len(rest)]
		if len(rest) == 0 || (len(consumed) > 0 && consumed[len(consumed)-1] == "--") {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseIDs parses a comma-separated id list such as "1,2,3".
func parseIDs(list string) ([]int, error) {
	if strings.TrimSpace(list) == "" {
		return nil, errors.New("empty id list")
	}
	parts := strings.Split(list, ",")
	if len(parts) > maxIDs {
		return nil, fmt.Errorf("more than %d ids", maxIDs)
	}
	ids := make([]int, len(parts))
	for i, p := range parts {
		id, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || id < 0 {
			return nil, fmt.Errorf("id %d (%q) is not a non-negative integer", i, p)
		}
		ids[i] = id
	}
	return ids, nil
}

// samplingFlags are the sampler settings shared by run and generate, with
// llama.cpp's defaults.
type samplingFlags struct {
	temp, topP, minP, repeat float64
	topK, lastN              int
	seed                     uint64
}

// addSamplingFlags registers the sampling flags on fs.
func addSamplingFlags(fs *flag.FlagSet) *samplingFlags {
	f := &samplingFlags{}
	fs.Float64Var(&f.temp, "temp", 0.8, "temperature; 0 means greedy")
	fs.IntVar(&f.topK, "top-k", 40, "keep the K most likely tokens; 0 turns it off")
	fs.Float64Var(&f.topP, "top-p", 0.95, "keep the most likely tokens up to this probability mass; 1 turns it off")
	fs.Float64Var(&f.minP, "min-p", 0.05, "drop tokens less likely than this times the most likely; 0 turns it off")
	fs.Float64Var(&f.repeat, "repeat-penalty", 1, "penalise tokens seen in the last --repeat-last-n; 1 turns it off")
	fs.IntVar(&f.lastN, "repeat-last-n", 64, "how many recent tokens the repeat penalty looks at; 0 means all")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the sampler's PRNG")
	return f
}

// options converts the flags, rejecting values out of range as wrong usage.
func (f *samplingFlags) options() (sample.Options, error) {
	o := sample.Options{
		Temperature:   float32(f.temp),
		TopK:          f.topK,
		TopP:          float32(f.topP),
		MinP:          float32(f.minP),
		RepeatPenalty: float32(f.repeat),
		PenaltyLastN:  f.lastN,
		Seed:          f.seed,
	}
	if err := o.Validate(); err != nil {
		return o, usagef("%v", err)
	}
	if f.lastN < 0 {
		return o, usagef("--repeat-last-n %d is negative", f.lastN)
	}
	return o, nil
}

// modelDir turns a MODEL argument into a local folder: an existing path is
// used as is, anything else is a Hugging Face repo id ("org/name[@rev]")
// resolved from the shared HF cache and downloaded, with a progress bar on
// stderr, when it is missing and HF_HUB_OFFLINE is not set.
func modelDir(arg string, s stdio) (string, error) {
	opts, err := hub.FromEnv()
	if err != nil {
		return "", err
	}
	opts.Progress = hub.NewProgressBar(s.err).Update
	return hub.ModelDir(context.Background(), arg, opts)
}

// addQuantizeFlag registers --quantize, model.Options.Quantize, on fs.
func addQuantizeFlag(fs *flag.FlagSet) *string {
	return fs.String("quantize", "", `convert the weights at load: "" keeps the file's dtype, "q8" is Q8`)
}

// addKVCacheFlag registers --kv-cache, model.Options.KVCache, on fs.
func addKVCacheFlag(fs *flag.FlagSet) *string {
	return fs.String("kv-cache", model.KVCacheF32,
		`KV cache element type: "f32", or "f16" (half the memory; each key and value is rounded to binary16)`)
}

// loadModel loads the model in dir with a context of at least want
// positions where the model allows it (max_position_embeddings caps it)
// and the KV cache type kvCache (model.Options.KVCache).
func loadModel(dir string, threads, want int, kvCache string) (*model.Model, error) {
	cfg, err := config.Load(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	// model.Load's errors name the folder already.
	return model.Load(dir, model.Options{Threads: threads, ContextLength: min(want, cfg.MaxPositionEmbeddings), KVCache: kvCache})
}

// eosIDs returns the model's end-of-sequence ids: config.json's, plus
// generation_config.json's when dir has one (transformers' generate stops
// on the latter), plus extra, without duplicates.
func eosIDs(dir string, m *model.Model, extra []int) ([]int, error) {
	ids := slices.Clone(m.Config().EOSTokenIDs)
	data, err := readFile(filepath.Join(dir, "generation_config.json"), maxSmallFile)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		g, err := config.ParseGeneration(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		ids = append(ids, g.EOSTokenIDs...)
	}
	ids = append(ids, extra...)
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// readFile reads the file at path, failing past limit bytes.
func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, path, limit)
}

// readAll reads r (named what in errors) to the end, failing past limit
// bytes.
func readAll(r io.Reader, what string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", what, limit)
	}
	return data, nil
}
