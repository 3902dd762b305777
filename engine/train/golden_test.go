package train

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/loomai/loom/engine/safetensors"
	"github.com/loomai/loom/kernels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, where testdata/models lives.
const repoRoot = "../.."

// tolerance is the agreement required with torch: the largest difference
// within a tensor, relative to the tensor's largest magnitude. float32
// sums in a different order differ by a few ulp per operation; 1e-4 leaves
// room for that through two layers and their backward pass while any
// wrong term (a missing bias, a transposed product) is far beyond it.
const tolerance = 1e-4

// trainGolden is testdata/golden/<case>/golden.json, written by
// ci/reference/train_golden.py from transformers + torch.
type trainGolden struct {
	Model   string `json:"model"`
	Rows    int    `json:"rows"`
	Len     int    `json:"len"`
	Batches []struct {
		Tokens  []int `json:"tokens"`
		Targets []int `json:"targets"`
	} `json:"batches"`
	Losses      []float64 `json:"losses"`
	GradNorms   []float64 `json:"grad_norms"`
	LR          float64   `json:"lr"`
	Beta1       float64   `json:"beta1"`
	Beta2       float64   `json:"beta2"`
	Eps         float64   `json:"eps"`
	WeightDecay float64   `json:"weight_decay"`
	MaxGradNorm float64   `json:"max_grad_norm"`
}

// relErr returns max|got-want| / max|want| (or the plain difference when
// want is all zeros).
func relErr(got, want []float32) float64 {
	var diff, scale float64
	for i, w := range want {
		diff = max(diff, math.Abs(float64(got[i])-float64(w)))
		scale = max(scale, math.Abs(float64(w)))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

func goldenCases(t *testing.T) []string {
	dirs, err := filepath.Glob("testdata/golden/*/golden.json")
	require.NoError(t, err)
	require.Len(t, dirs, 4, "rerun ci/reference/run.sh ci/reference/train_golden.py")
	return dirs
}

// TestTrainingStepsMatchTorch checks each stage of the golden training
// steps against transformers and torch, each from torch's own input to it:
// the loss and every gradient at the initial weights and at torch's
// weights after step 1, and clipping plus AdamW (fed torch's gradients)
// against torch's weights after each step.
func TestTrainingStepsMatchTorch(t *testing.T) {
	for _, path := range goldenCases(t) {
		name := filepath.Base(filepath.Dir(path))
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			var g trainGolden
			require.NoError(t, json.Unmarshal(data, &g))
			ref, err := safetensors.Open(filepath.Join(filepath.Dir(path), "golden.safetensors"))
			require.NoError(t, err)
			defer ref.Close()
			want := func(name string) []float32 {
				tn, err := ref.Tensor(name)
				require.NoError(t, err)
				v, err := tn.Float32()
				require.NoError(t, err)
				return v
			}

			m, err := Load(filepath.Join(repoRoot, g.Model))
			require.NoError(t, err)
			opt, err := NewAdamW(m.Params(), AdamWConfig{LR: g.LR, Beta1: g.Beta1, Beta2: g.Beta2, Eps: g.Eps, WeightDecay: g.WeightDecay})
			require.NoError(t, err)
			pool := kernels.NewPool(2)
			defer pool.Close()

			worstGrad, worstWeights := 0.0, 0.0
			for k, b := range g.Batches {
				step := k + 1
				if k > 0 {
					// Continue from torch's weights, not ours.
					for _, p := range m.Params() {
						copy(p.Value.Data, want(fmt.Sprintf("weights%d.%s", k, p.Name)))
					}
				}
				m.ZeroGrad()
				loss, err := m.Gradients(pool, Batch{Tokens: b.Tokens, Targets: b.Targets, Rows: g.Rows, Len: g.Len})
				require.NoError(t, err)
				assert.InDelta(t, g.Losses[k], float64(loss), tolerance*g.Losses[k], "loss of step %d", step)
				for _, p := range m.Params() {
					e := relErr(p.Grad.Data, want(fmt.Sprintf("grad%d.%s", step, p.Name)))
					worstGrad = max(worstGrad, e)
					assert.LessOrEqual(t, e, tolerance, "step %d gradient of %s", step, p.Name)
				}
				if len(g.GradNorms) == 0 {
					continue // this golden holds gradients only
				}
				for _, p := range m.Params() {
					copy(p.Grad.Data, want(fmt.Sprintf("grad%d.%s", step, p.Name)))
				}
				norm, err := clipAndStep(pool, m, opt, g.MaxGradNorm)
				require.NoError(t, err)
				assert.InDelta(t, g.GradNorms[k], float64(norm), tolerance*g.GradNorms[k], "gradient norm of step %d", step)
				for _, p := range m.Params() {
					e := relErr(p.Value.Data, want(fmt.Sprintf("weights%d.%s", step, p.Name)))
					worstWeights = max(worstWeights, e)
					assert.LessOrEqual(t, e, tolerance, "weights of %s after AdamW step %d", p.Name, step)
				}
			}
			if len(g.GradNorms) == 0 {
				t.Logf("%s: worst relative gradient error %.2e", name, worstGrad)
			} else {
				t.Logf("%s: worst relative error: gradients %.2e, weights after AdamW %.2e", name, worstGrad, worstWeights)
			}
		})
	}
}
