package nn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type goldenLoss struct {
	Name        string       `json:"name"`
	Kind        string       `json:"kind"`
	Input       goldenTensor `json:"input"`
	Targets     []int        `json:"targets"`
	IgnoreIndex int          `json:"ignore_index"`
	Target      goldenTensor `json:"target"`
	Loss        float32      `json:"loss"`
	Grad        goldenTensor `json:"grad"`
}

type goldenOptim struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	Config struct {
		LR          float64 `json:"lr"`
		Momentum    float64 `json:"momentum"`
		Dampening   float64 `json:"dampening"`
		WeightDecay float64 `json:"weight_decay"`
		Nesterov    bool    `json:"nesterov"`
		Beta1       float64 `json:"beta1"`
		Beta2       float64 `json:"beta2"`
		Eps         float64 `json:"eps"`
	} `json:"config"`
	Init  []goldenTensor   `json:"init"`
	Grads [][]goldenTensor `json:"grads"`
	After [][]goldenTensor `json:"after"`
}

type goldenClip struct {
	Name      string         `json:"name"`
	MaxNorm   float64        `json:"max_norm"`
	Grads     []goldenTensor `json:"grads"`
	TotalNorm float32        `json:"total_norm"`
	Clipped   []goldenTensor `json:"clipped"`
}

// TestLossesAgainstTorch compares CrossEntropy and MSE, value and gradient,
// with F.cross_entropy and F.mse_loss.
func TestLossesAgainstTorch(t *testing.T) {
	g := loadGolden(t)
	require.NotEmpty(t, g.Losses)
	for _, c := range g.Losses {
		t.Run(c.Name, func(t *testing.T) {
			var loss float32
			var grad *Tensor
			var err error
			switch c.Kind {
			case "cross_entropy":
				loss, grad, err = CrossEntropy(c.Input.tensor(t), c.Targets, c.IgnoreIndex)
			case "mse":
				loss, grad, err = MSE(c.Input.tensor(t), c.Target.tensor(t))
			default:
				t.Fatalf("unknown loss %q", c.Kind)
			}
			require.NoError(t, err)
			el, eg := relErr(loss, c.Loss), maxRelErr(grad.Data, c.Grad.Data)
			assert.LessOrEqual(t, el, torchTol, "loss %v, torch %v", loss, c.Loss)
			assert.LessOrEqual(t, eg, torchTol, "gradient")
			t.Logf("max error vs torch: loss %.2e, gradient %.2e", el, eg)
		})
	}
}

// TestOptimizersAgainstTorch runs SGD and AdamW for several steps on the
// golden gradients and compares the parameters after every step with
// torch.optim.SGD / torch.optim.AdamW.
func TestOptimizersAgainstTorch(t *testing.T) {
	g := loadGolden(t)
	require.NotEmpty(t, g.Optimizers)
	for _, c := range g.Optimizers {
		t.Run(c.Name, func(t *testing.T) {
			params := make([]*Param, len(c.Init))
			for i, v := range c.Init {
				params[i] = &Param{Name: "p", Value: v.tensor(t), Grad: zeros(v.Shape...)}
			}
			var step func() error
			switch c.Kind {
			case "sgd":
				o, err := NewSGD(params, SGDConfig{LR: c.Config.LR, Momentum: c.Config.Momentum, Dampening: c.Config.Dampening,
					WeightDecay: c.Config.WeightDecay, Nesterov: c.Config.Nesterov})
				require.NoError(t, err)
				step = o.Step
			case "adamw":
				o, err := NewAdamW(params, AdamWConfig{LR: c.Config.LR, Beta1: c.Config.Beta1, Beta2: c.Config.Beta2,
					Eps: c.Config.Eps, WeightDecay: c.Config.WeightDecay})
				require.NoError(t, err)
				step = o.Step
			default:
				t.Fatalf("unknown optimiser %q", c.Kind)
			}
			require.NotEmpty(t, c.Grads)
			worst := 0.0
			for s := range c.Grads {
				for i, p := range params {
					copy(p.Grad.Data, c.Grads[s][i].Data)
				}
				require.NoError(t, step())
				for i, p := range params {
					e := maxRelErr(p.Value.Data, c.After[s][i].Data)
					assert.LessOrEqual(t, e, torchTol, "step %d parameter %d", s+1, i)
					worst = max(worst, e)
				}
			}
			t.Logf("max error vs torch over %d steps: %.2e", len(c.Grads), worst)
		})
	}
}

// TestClipGradNormAgainstTorch compares ClipGradNorm with
// torch.nn.utils.clip_grad_norm_: the returned norm and the gradients
// after clipping (or not).
func TestClipGradNormAgainstTorch(t *testing.T) {
	g := loadGolden(t)
	require.NotEmpty(t, g.Clip)
	for _, c := range g.Clip {
		t.Run(c.Name, func(t *testing.T) {
			params := make([]*Param, len(c.Grads))
			for i, v := range c.Grads {
				params[i] = &Param{Name: "p", Value: zeros(v.Shape...), Grad: v.tensor(t)}
			}
			norm, err := ClipGradNorm(params, c.MaxNorm)
			require.NoError(t, err)
			assert.LessOrEqual(t, relErr(norm, c.TotalNorm), torchTol, "norm %v, torch %v", norm, c.TotalNorm)
			for i, p := range params {
				assert.LessOrEqual(t, maxRelErr(p.Grad.Data, c.Clipped[i].Data), torchTol, "gradient %d", i)
			}
		})
	}
}
