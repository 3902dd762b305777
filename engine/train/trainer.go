package train

import (
	"context"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/loomai/loom/kernels"
)

// Options are the settings of a training run that decide its result. A
// checkpoint records them, and a run resumes only with the same ones.
type Options struct {
	Batch       int     // sequences per step
	Steps       int     // optimiser steps in all
	LR          float64 // peak learning rate, reached after Warmup steps
	MinLR       float64 // learning rate at the end of the cosine decay
	Warmup      int     // linear warmup steps
	Beta1       float64 // AdamW moment decay rates
	Beta2       float64
	Eps         float64
	WeightDecay float64 // AdamW decoupled weight decay of matrices
	MaxGradNorm float64 // global gradient-norm clip; <= 0 disables it
	Seed        uint64  // batch order
}

// DefaultOptions are common settings for small language models; Steps and
// Batch must still be chosen.
var DefaultOptions = Options{
	Batch: 8, LR: 1e-3, MinLR: 1e-4, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8,
	WeightDecay: 0.1, MaxGradNorm: 1.0,
}

func (o *Options) validate() error {
	switch {
	case o.Batch < 1 || o.Steps < 1:
		return fmt.Errorf("train: batch %d and steps %d must be at least 1: %w", o.Batch, o.Steps, ErrUnsupported)
	case o.Warmup < 0 || o.Warmup > o.Steps:
		return fmt.Errorf("train: warmup %d outside [0, steps %d]: %w", o.Warmup, o.Steps, ErrUnsupported)
	case !(o.MinLR >= 0 && o.MinLR <= o.LR) || math.IsInf(o.LR, 0):
		return fmt.Errorf("train: learning rates %v (min %v): %w", o.LR, o.MinLR, ErrUnsupported)
	case math.IsNaN(o.MaxGradNorm) || math.IsInf(o.MaxGradNorm, 0):
		return fmt.Errorf("train: max gradient norm %v: %w", o.MaxGradNorm, ErrUnsupported)
	}
	return nil
}

// Trainer runs the optimisation of a Model over training windows:
// ZeroGrad, Gradients, clipping, AdamW at the scheduled learning rate.
type Trainer struct {
	Model      *Model
	opt        *AdamW
	o          Options
	sched      LRSchedule
	train, val *Windows
	ord        *order
	step       int
}

// StepResult describes one optimiser step.
type StepResult struct {
	Step     int     // 1-based number of the step just taken
	Loss     float32 // mean training loss of its batch
	GradNorm float32 // global gradient norm before clipping
	LR       float64 // learning rate it used
	Tokens   int     // target tokens in its batch
}

// NewTrainer prepares training m on train (val may be empty or nil) with
// options o. The windows' context must fit the model.
func NewTrainer(m *Model, train, val *Windows, o Options) (*Trainer, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	if train == nil || train.Len() == 0 {
		return nil, fmt.Errorf("train: no training windows: %w", ErrShape)
	}
	if train.context > m.cfg.MaxPositionEmbeddings || o.Batch > MaxBatchTokens/train.context {
		return nil, fmt.Errorf("train: %d x %d tokens do not fit the model: %w", o.Batch, train.context, ErrShape)
	}
	opt, err := NewAdamW(m.Params(), AdamWConfig{LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay})
	if err != nil {
		return nil, err
	}
	return &Trainer{
		Model: m, opt: opt, o: o,
		sched: LRSchedule{LR: o.LR, MinLR: o.MinLR, Warmup: o.Warmup, Steps: o.Steps},
		train: train, val: val, ord: newOrder(train, o.Seed),
	}, nil
}

// Steps returns how many steps have been taken.
func (t *Trainer) Steps() int { return t.step }

// Done reports whether all Options.Steps steps have been taken.
func (t *Trainer) Done() bool { return t.step >= t.o.Steps }

// Step takes the next optimiser step.
func (t *Trainer) Step(p *kernels.Pool) (StepResult, error) {
	if t.Done() {
		return StepResult{}, fmt.Errorf("train: all %d steps taken: %w", t.o.Steps, ErrShape)
	}
	b := t.ord.batch(t.step, t.o.Batch)
	t.Model.ZeroGrad()
	loss, err := t.Model.Gradients(p, b)
	if err != nil {
		return StepResult{}, err
	}
	lr := t.sched.At(t.step)
	t.opt.Config.LR = lr
	norm, err := clipAndStep(p, t.Model, t.opt, t.o.MaxGradNorm)
	if err != nil {
		return StepResult{}, fmt.Errorf("train: step %d (loss %v): %w", t.step+1, loss, err)
	}
	t.step++
	return StepResult{Step: t.step, Loss: loss, GradNorm: norm, LR: lr, Tokens: len(b.Tokens)}, nil
}

// Validate returns the mean loss over every validation target, or NaN when
// there are no validation windows.
func (t *Trainer) Validate(p *kernels.Pool) (float64, error) {
	if t.val == nil || t.val.Len() == 0 {
		return math.NaN(), nil
	}
	var sum float64
	total := 0
	for _, b := range t.val.evalBatches(t.o.Batch) {
		loss, n, err := t.Model.Loss(p, b)
		if err != nil {
			return 0, err
		}
		sum += float64(float64(loss) * float64(n))
		total += n
	}
	return sum / float64(total), nil
}

// RunOptions are the settings of Run that do not change its result.
type RunOptions struct {
	// Progress receives a progress line per step (rewritten in place with
	// a carriage return) and a line per validation; nil for none.
	Progress io.Writer
	// Checkpoint is the file a checkpoint is saved to every
	// CheckpointEvery steps and at the end; "" for none.
	Checkpoint      string
	CheckpointEvery int
	// ValEvery validates every ValEvery steps (and always at the end);
	// <= 0 only at the end.
	ValEvery int
}

// Run takes the remaining steps, validating and checkpointing as r says,
// and returns the final validation loss (NaN without validation windows).
// Cancelling ctx stops it between steps, after saving a checkpoint.
func (t *Trainer) Run(ctx context.Context, p *kernels.Pool, r RunOptions) (float64, error) {
	start, startStep := time.Now(), t.step
	var paused time.Duration // spent validating and checkpointing, left out of the rate
	tokens := 0
	for !t.Done() {
		if err := ctx.Err(); err != nil {
			if r.Checkpoint != "" {
				if cerr := t.SaveCheckpoint(r.Checkpoint); cerr != nil {
					return 0, cerr
				}
			}
			return 0, fmt.Errorf("train: stopped at step %d: %w", t.step, err)
		}
		res, err := t.Step(p)
		if err != nil {
			return 0, err
		}
		tokens += res.Tokens
		if r.Progress != nil {
			elapsed := time.Since(start) - paused
			rate := float64(tokens) / max(elapsed.Seconds(), 1e-9)
			eta := time.Duration(float64(elapsed) / float64(t.step-startStep) * float64(t.o.Steps-t.step))
			fmt.Fprintf(r.Progress, "\r%s step %d/%d loss %.4f lr %.2e %.0f tok/s ETA %s ",
				bar(t.step, t.o.Steps, 24), t.step, t.o.Steps, res.Loss, res.LR, rate, eta.Round(time.Second))
		}
		pause := time.Now()
		if r.ValEvery > 0 && t.step%r.ValEvery == 0 && !t.Done() {
			if err := t.report(p, r.Progress); err != nil {
				return 0, err
			}
		}
		if r.Checkpoint != "" && r.CheckpointEvery > 0 && t.step%r.CheckpointEvery == 0 && !t.Done() {
			if err := t.SaveCheckpoint(r.Checkpoint); err != nil {
				return 0, err
			}
		}
		paused += time.Since(pause)
	}
	if r.Checkpoint != "" {
		if err := t.SaveCheckpoint(r.Checkpoint); err != nil {
			return 0, err
		}
	}
	if r.Progress != nil {
		fmt.Fprintln(r.Progress)
	}
	loss, err := t.Validate(p)
	if err != nil {
		return 0, err
	}
	return loss, nil
}

// report validates and prints the loss and perplexity on its own line.
func (t *Trainer) report(p *kernels.Pool, w io.Writer) error {
	loss, err := t.Validate(p)
	if err != nil || w == nil || math.IsNaN(loss) {
		return err
	}
	fmt.Fprintf(w, "\nstep %d: validation loss %.4f, perplexity %.2f\n", t.step, loss, Perplexity(loss))
	return nil
}

// Perplexity returns exp(loss), with kernels.Exp so that it prints the
// same everywhere.
func Perplexity(loss float64) float64 { return float64(kernels.Exp(float32(loss))) }

// bar draws a progress bar of width cells for done of total.
func bar(done, total, width int) string {
	full := done * width / max(total, 1)
	b := make([]byte, 0, width+2)
	b = append(b, '[')
	for i := range width {
		switch {
		case i < full:
			b = append(b, '=')
		case i == full:
			b = append(b, '>')
		default:
			b = append(b, ' ')
		}
	}
	return string(append(b, ']'))
}
