package train

import (
	"fmt"

	"github.com/loomai/loom/engine/nn"
	"github.com/loomai/loom/kernels"
)

// clipAndStep finishes a training step once the gradients are in: it
// clips them to a global L2 norm of maxNorm (nn.ClipGradNorm, PyTorch's
// clip_grad_norm_; maxNorm <= 0 disables clipping) and applies opt. It
// returns the norm before clipping. A non-finite norm is an error and
// leaves the parameters untouched.
func clipAndStep(p *kernels.Pool, m *Model, opt *AdamW, maxNorm float64) (float32, error) {
	var norm float32
	var err error
	if maxNorm > 0 {
		norm, err = nn.ClipGradNorm(m.Params(), maxNorm)
	} else {
		norm, err = nn.ClipGradNorm(m.Params(), 1e300) // measures only
	}
	if err != nil {
		return norm, fmt.Errorf("train: %w", err)
	}
	opt.Step(p)
	return norm, nil
}
