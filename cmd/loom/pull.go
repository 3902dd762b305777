package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/loomai/loom/hub"
)

const (
	pullSynopsis = "pull ORG/NAME[@REVISION] [--cache-dir DIR]"
	pullAbout    = `Downloads the files Loom loads (config.json, generation_config.json,
tokenizer.json, tokenizer_config.json and the safetensors weights, shards
included) of a Hugging Face Hub model into the Hugging Face cache, shared
with Python tools, and prints the snapshot folder on stdout: that folder is
a MODEL for the other commands. REVISION is a branch, tag or commit (default
main). Cached files are not downloaded again, an interrupted download
resumes, and offline the cached snapshot is printed. Progress (bytes, rate,
ETA) goes to stderr.

Environment, as huggingface_hub reads it: HF_HOME (default
~/.cache/huggingface), HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN or the token
file $HF_HOME/token (gated and private models), HF_HUB_OFFLINE=1.`
)

// runPull is `loom pull`.
func runPull(args []string, s stdio) error {
	fs := newFlagSet("pull")
	cacheDir := fs.String("cache-dir", "", "hub cache `folder` (the one holding models--ORG--NAME); default $HF_HUB_CACHE, else $HF_HOME/hub")
	pos, err := parseFlags(fs, args, s, pullSynopsis, pullAbout)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want ORG/NAME[@REVISION], got %d arguments", len(pos))
	}
	if _, _, err := hub.ParseRepoID(pos[0]); err != nil {
		return usagef("%v", err)
	}
	opts, err := hub.FromEnv()
	if err != nil {
		return err
	}
	if *cacheDir != "" {
		opts.CacheDir = *cacheDir
	}
	opts.Progress = hub.NewProgressBar(s.err).Update
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := hub.Resolve(ctx, pos[0], opts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(s.out, dir)
	return err
}
