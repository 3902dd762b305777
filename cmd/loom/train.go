package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/engine/tokenizer"
	"github.com/loomai/loom/engine/train"
	"github.com/loomai/loom/kernels"
)

const (
	trainSynopsis = "train --tokenizer DIR --out DIR [shape, schedule and data flags] [TEXT FILE]..."
	trainAbout    = `Trains a new LlamaForCausalLM from scratch on the text files and chat
conversations given (see train-tokenizer for their format; chat files are
rendered through the tokenizer's chat template), and writes it to the --out
folder in the Hugging Face layout: model.safetensors, config.json,
generation_config.json, tokenizer.json and tokenizer_config.json.

The documents become one token stream (each followed by <|endoftext|>), cut
into windows of --context tokens; every round(1/--val-fraction)-th window is
held out for validation. Each step trains on --batch windows in a seeded
order, with AdamW, gradient clipping and a linear-warmup cosine schedule.
Training is deterministic: the same flags and data give the same weights,
whatever --threads. With --checkpoint, the full state is saved every
--checkpoint-every steps, at the end and on Ctrl-C, and --resume continues
from it exactly (with the same flags). Progress goes to stderr; the final
validation loss and perplexity to stdout.`
)

// runTrain is `loom train`.
func runTrain(args []string, s stdio) error {
	fs := newFlagSet("train")
	tokDir := fs.String("tokenizer", "", "`dir` holding tokenizer.json and tokenizer_config.json")
	out := fs.String("out", "", "output model `dir` (created if needed)")
	var c corpusFlags
	fs.Var(&c.chats, "chat", "JSONL `file` of conversations (repeatable)")
	fs.StringVar(&c.separator, "separator", "", "`line` that separates documents in the text files")

	var shape train.Shape
	fs.IntVar(&shape.Layers, "layers", 4, "decoder layers")
	fs.IntVar(&shape.Hidden, "hidden", 256, "hidden size")
	fs.IntVar(&shape.Heads, "heads", 4, "attention heads")
	fs.IntVar(&shape.KVHeads, "kv-heads", 2, "key/value heads (grouped-query attention)")
	fs.IntVar(&shape.HeadDim, "head-dim", 0, "head dimension; 0 means hidden/heads")
	fs.IntVar(&shape.Intermediate, "intermediate", 768, "MLP intermediate size")
	fs.IntVar(&shape.Context, "context", 256, "tokens per training window, and the model's context length")
	fs.Float64Var(&shape.RopeTheta, "rope-theta", 10000, "RoPE base")
	fs.Float64Var(&shape.RMSNormEps, "rms-norm-eps", 1e-5, "RMSNorm epsilon")
	tied := fs.Bool("tie-embeddings", true, "share the embedding with the output head")
	initStd := fs.Float64("init-std", 0.02, "standard deviation of the initial weights")

	o := train.DefaultOptions
	fs.IntVar(&o.Batch, "batch", o.Batch, "windows per step")
	fs.IntVar(&o.Steps, "steps", 0, "optimiser steps; 0 means --epochs passes over the training windows")
	epochs := fs.Float64("epochs", 1, "passes over the training windows when --steps is 0")
	fs.Float64Var(&o.LR, "lr", o.LR, "peak learning rate")
	fs.Float64Var(&o.MinLR, "min-lr", o.MinLR, "final learning rate of the cosine decay")
	warmup := fs.Float64("warmup", 0.02, "warmup steps, or a fraction of the steps when below 1")
	fs.Float64Var(&o.WeightDecay, "weight-decay", o.WeightDecay, "AdamW weight decay of the matrices")
	fs.Float64Var(&o.Beta2, "beta2", o.Beta2, "AdamW second-moment decay")
	fs.Float64Var(&o.MaxGradNorm, "clip", o.MaxGradNorm, "gradient norm clip; 0 turns it off")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the initial weights and of the batch order")
	valFraction := fs.Float64("val-fraction", 0.05, "fraction of the windows held out for validation; 0 for none")
	valEvery := fs.Int("val-every", 0, "validate every N steps (and at the end); 0 only at the end")
	dtype := fs.String("dtype", "bf16", "weight type of the saved model: bf16 or f32")
	threads := fs.Int("threads", 0, "worker threads; 0 means all cores")
	ckpt := fs.String("checkpoint", "", "checkpoint `file` for saving and --resume")
	ckptEvery := fs.Int("checkpoint-every", 200, "save the checkpoint every N steps")
	resume := fs.Bool("resume", false, "continue from --checkpoint")
	pos, err := parseFlags(fs, args, s, trainSynopsis, trainAbout)
	if err != nil {
		return err
	}
	shape.Tied = *tied
	switch {
	case *tokDir == "" || *out == "":
		return usagef("--tokenizer and --out are required")
	case *resume && *ckpt == "":
		return usagef("--resume needs --checkpoint")
	case !(*valFraction >= 0 && *valFraction < 1):
		return usagef("--val-fraction %v is outside [0, 1)", *valFraction)
	case *threads < 0 || *threads > 256 || *ckptEvery < 0 || *valEvery < 0:
		return usagef("--threads, --checkpoint-every and --val-every must be in range")
	}
	saveType := map[string]safetensors.DType{"bf16": safetensors.BF16, "f32": safetensors.F32}[*dtype]
	if saveType == "" {
		return usagef("--dtype %q: want bf16 or f32", *dtype)
	}

	tok, tj, cj, err := readTokenizerDir(*tokDir)
	if err != nil {
		return err
	}
	eot, ok := tok.TokenID("<|endoftext|>")
	if !ok {
		return fmt.Errorf("%s: the tokenizer has no <|endoftext|> token", *tokDir)
	}
	docs, err := c.documents(pos, tok.ChatTemplate())
	if err != nil {
		return err
	}
	stream, err := train.TokenStream(tok, docs, eot)
	if err != nil {
		return err
	}
	every := 0
	if *valFraction > 0 {
		every = max(int(math.Round(1 / *valFraction)), 2)
	}
	trainW, valW, err := train.Split(stream, shape.Context, every)
	if err != nil {
		return err
	}
	if o.Steps == 0 {
		o.Steps = max(int(math.Ceil(*epochs*float64(trainW.Len())/float64(o.Batch))), 1)
	}
	o.Warmup = int(*warmup)
	if *warmup < 1 {
		o.Warmup = int(math.Round(*warmup * float64(o.Steps)))
	}

	shape.VocabSize, shape.BOS, shape.EOS = tok.VocabSize(), -1, tok.EOSTokenIDs()
	if id, ok := tok.TokenID(tok.BOSToken()); ok && tok.BOSToken() != "" {
		shape.BOS = id
	}
	if len(shape.EOS) == 0 || shape.EOS[0] != eot {
		shape.EOS = append(shape.EOS, eot)
	}
	cfg, err := train.LlamaConfig(shape)
	if err != nil {
		return usagef("%v", err)
	}
	m, err := train.New(cfg, *initStd, o.Seed)
	if err != nil {
		return err
	}
	trainer, err := train.NewTrainer(m, trainW, valW, o)
	if err != nil {
		return err
	}
	if *resume {
		if err := trainer.LoadCheckpoint(*ckpt); err != nil {
			return err
		}
	}
	fmt.Fprintf(s.err, "model: %d parameters (%d layers, hidden %d, %d/%d heads, intermediate %d, vocab %d, context %d)\n",
		m.NumParams(), shape.Layers, shape.Hidden, shape.Heads, shape.KVHeads, shape.Intermediate, shape.VocabSize, shape.Context)
	fmt.Fprintf(s.err, "data: %d documents, %d tokens: %d training and %d validation windows; %d steps of %d windows from step %d\n",
		len(docs), len(stream), trainW.Len(), valW.Len(), o.Steps, o.Batch, trainer.Steps())

	pool := kernels.NewPool(*threads)
	defer pool.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	loss, err := trainer.Run(ctx, pool, train.RunOptions{Progress: s.err, Checkpoint: *ckpt, CheckpointEvery: *ckptEvery, ValEvery: *valEvery})
	if err != nil {
		return err
	}
	if err := saveTrained(*out, m, saveType, tok, tj, cj); err != nil {
		return err
	}
	if math.IsNaN(loss) {
		fmt.Fprintln(s.out, "validation: no held-out windows")
	} else {
		fmt.Fprintf(s.out, "validation loss %.4f perplexity %.2f\n", loss, train.Perplexity(loss))
	}
	return nil
}

// readTokenizerDir loads dir's tokenizer.json and tokenizer_config.json,
// returning the files too, to be copied next to the model.
func readTokenizerDir(dir string) (*tokenizer.Tokenizer, []byte, []byte, error) {
	tj, err := readFile(filepath.Join(dir, "tokenizer.json"), tokenizer.MaxFileBytes)
	if err != nil {
		return nil, nil, nil, err
	}
	cj, err := readFile(filepath.Join(dir, "tokenizer_config.json"), tokenizer.MaxFileBytes)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, err
	}
	tok, err := tokenizer.Load(tj, cj)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	return tok, tj, cj, nil
}

// saveTrained writes the model and its tokenizer and generation config to
// dir in the Hugging Face layout.
func saveTrained(dir string, m *train.Model, dtype safetensors.DType, tok *tokenizer.Tokenizer, tj, cj []byte) error {
	if err := m.Save(dir, dtype); err != nil {
		return err
	}
	cfg := m.Config()
	bos := -1
	if len(cfg.BOSTokenIDs) == 1 {
		bos = cfg.BOSTokenIDs[0]
	}
	if err := train.WriteGenerationConfig(dir, bos, cfg.EOSTokenIDs); err != nil {
		return err
	}
	if err := train.WriteFileAtomic(filepath.Join(dir, "tokenizer.json"), tj); err != nil {
		return err
	}
	if cj != nil {
		return train.WriteFileAtomic(filepath.Join(dir, "tokenizer_config.json"), cj)
	}
	return nil
}
