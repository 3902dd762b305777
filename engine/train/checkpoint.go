package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/loomai/loom/engine/safetensors"
)

// ErrCheckpoint reports a checkpoint that does not belong to this run: a
// different model shape, options or training data, or a damaged file.
var ErrCheckpoint = errors.New("train: checkpoint does not match the run")

// Checkpoint metadata keys.
const (
	ckptFormat  = "loom_train_checkpoint"
	ckptVersion = "1"
)

// SaveCheckpoint writes everything a run needs to continue bit for bit to
// path (atomically, as one safetensors file): every parameter
// ("param.<name>") and its AdamW moments ("adam_m.<name>",
// "adam_v.<name>") in float32, and as metadata the step count, the
// options, the model config and the training data's fingerprint.
func (t *Trainer) SaveCheckpoint(path string) error {
	meta, err := t.checkpointMeta()
	if err != nil {
		return err
	}
	meta["step"] = strconv.Itoa(t.step)
	params := t.Model.Params()
	tensors := make([]safetensors.Tensor, 0, 3*len(params))
	for i, p := range params {
		tensors = append(tensors,
			safetensors.F32Tensor("param."+p.Name, p.Value.Shape, p.Value.Data),
			safetensors.F32Tensor("adam_m."+p.Name, p.Value.Shape, t.opt.m[i]),
			safetensors.F32Tensor("adam_v."+p.Name, p.Value.Shape, t.opt.v[i]),
		)
	}
	if err := safetensors.WriteFile(path, tensors, meta); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// checkpointMeta is the metadata that must match for a resume.
func (t *Trainer) checkpointMeta() (map[string]string, error) {
	opts, err := json.Marshal(t.o)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	cfg, err := json.Marshal(t.Model.cfg)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint: %w", err)
	}
	return map[string]string{
		"format":    ckptFormat,
		"version":   ckptVersion,
		"options":   string(opts),
		"config":    string(cfg),
		"data":      t.train.Fingerprint(),
		"context":   strconv.Itoa(t.train.context),
		"numParams": strconv.Itoa(t.Model.NumParams()),
	}, nil
}

// LoadCheckpoint restores a checkpoint saved by SaveCheckpoint into t, which
// must have been built like the saved run: same model config, options and
// training data (anything else is ErrCheckpoint). The parameters, the
// optimiser state and the step count are replaced; the next Step continues
// exactly where the saved run would have.
func (t *Trainer) LoadCheckpoint(path string) error {
	f, err := safetensors.Open(path)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	defer f.Close()
	want, err := t.checkpointMeta()
	if err != nil {
		return err
	}
	got := f.Metadata()
	for _, k := range []string{"format", "version", "config", "context", "numParams", "options", "data"} {
		if got[k] != want[k] {
			return fmt.Errorf("train: checkpoint %s: %s differs from this run's: %w", path, k, ErrCheckpoint)
		}
	}
	step, err := strconv.Atoi(got["step"])
	if err != nil || step < 0 || step > t.o.Steps {
		return fmt.Errorf("train: checkpoint %s: step %q: %w", path, got["step"], ErrCheckpoint)
	}
	params := t.Model.Params()
	values := make([][]float32, len(params))
	m := make([][]float32, len(params))
	v := make([][]float32, len(params))
	for i, p := range params {
		for _, x := range []struct {
			prefix string
			dst    *[]float32
		}{{"param.", &values[i]}, {"adam_m.", &m[i]}, {"adam_v.", &v[i]}} {
			tn, err := f.Tensor(x.prefix + p.Name)
			if err != nil {
				return fmt.Errorf("train: checkpoint %s: %w: %w", path, ErrCheckpoint, err)
			}
			if tn.DType != safetensors.F32 || tn.NumElements() != p.Value.Len() {
				return fmt.Errorf("train: checkpoint %s: tensor %s%s is %s%v: %w", path, x.prefix, p.Name, tn.DType, tn.Shape, ErrCheckpoint)
			}
			if *x.dst, err = tn.Float32(); err != nil {
				return fmt.Errorf("train: checkpoint %s: %w", path, err)
			}
		}
	}
	if err := t.opt.restore(step, m, v); err != nil {
		return err
	}
	for i, p := range params {
		copy(p.Value.Data, values[i])
	}
	t.step = step
	return nil
}
