package nn

import (
	"fmt"

	"github.com/loomai/loom/kernels"
)

// IgnoreIndex is PyTorch's default ignore_index for cross-entropy: targets
// equal to it contribute neither loss nor gradient.
const IgnoreIndex = -100

// CrossEntropy returns PyTorch's F.cross_entropy(logits, targets,
// ignore_index=ignore, reduction="mean") and its gradient with respect to
// the logits. logits is [N×C] (or any shape whose last dimension is the C
// classes, with N rows in all); targets holds N class indices, each in
// [0, C) or equal to ignore. With M the number of targets not ignored:
//
//	loss = (1/M) Σ_{n: t_n != ignore} (logsumexp(logits_n) - logits_n[t_n])
//	grad_n = (softmax(logits_n) - onehot(t_n)) / M,  0 for ignored rows
//
// The softmax is kernels.Softmax, logsumexp is max + log(Σ exp(x - max))
// with the sum in the canonical 8-lane order, and the mean is accumulated in
// float64 in row order. When every target is ignored the loss and gradient
// are 0 (PyTorch returns NaN), so that such a batch cannot poison
// training. A target outside [0, C) that is not ignore is ErrTarget.
func CrossEntropy(logits *Tensor, targets []int, ignore int) (float32, *Tensor, error) {
	const op = "CrossEntropy"
	if err := logits.Validate(); err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	c := logits.Shape[len(logits.Shape)-1]
	n := logits.Len() / c
	if len(targets) != n {
		return 0, nil, fmt.Errorf("%s: %w: %d targets for %d rows", op, ErrShape, len(targets), n)
	}
	m := 0
	for i, t := range targets {
		if t == ignore {
			continue
		}
		if t < 0 || t >= c {
			return 0, nil, fmt.Errorf("%s: %w: target %d of row %d with %d classes", op, ErrTarget, t, i, c)
		}
		m++
	}
	grad := zeros(logits.Shape...)
	if m == 0 {
		return 0, grad, nil
	}
	var total float64
	inv := 1 / float32(m)
	e := make([]float32, c)
	for i, t := range targets {
		if t == ignore {
			continue
		}
		x := logits.Data[i*c : (i+1)*c]
		mx := x[0]
		for _, v := range x[1:] {
			mx = max(mx, v)
		}
		for j, v := range x {
			e[j] = kernels.Exp(v - mx)
		}
		lse := float64(mx) + log64(float64(sum32(e)))
		total += lse - float64(x[t])
		g := grad.Data[i*c : (i+1)*c]
		copy(g, x)
		kernels.Softmax(g)
		g[t]--
		for j := range g {
			g[j] *= inv
		}
	}
	return float32(total / float64(m)), grad, nil
}

// MSE returns PyTorch's F.mse_loss(pred, target) (reduction "mean"),
// mean((pred - target)²) accumulated in float64 in index order, and its
// gradient with respect to pred, 2·(pred - target)/N. pred and target must
// have the same shape.
func MSE(pred, target *Tensor) (float32, *Tensor, error) {
	const op = "MSE"
	if err := pred.Validate(); err != nil {
		return 0, nil, fmt.Errorf("%s: pred: %w", op, err)
	}
	if err := target.Validate(); err != nil {
		return 0, nil, fmt.Errorf("%s: target: %w", op, err)
	}
	if !sameShape(pred.Shape, target.Shape) {
		return 0, nil, fmt.Errorf("%s: %w: pred %v, target %v", op, ErrShape, pred.Shape, target.Shape)
	}
	grad := zeros(pred.Shape...)
	var total float64
	scale := 2 / float32(pred.Len())
	for i, p := range pred.Data {
		d := p - target.Data[i]
		total += float64(float64(d) * float64(d))
		grad.Data[i] = float32(scale * d)
	}
	return float32(total / float64(pred.Len())), grad, nil
}
