// Package nn is Loom's layer library for training and fine-tuning small
// models on the player's device: layers with forward and backward passes,
// a Sequential container, losses, optimisers and gradient clipping.
//
// It is deliberately not an autograd engine. Every layer implements Layer:
// Forward caches what its backward pass needs, Backward takes the gradient
// of the loss with respect to the layer's output, adds the gradients of its
// parameters into their Param.Grad (accumulating, as PyTorch's .grad does)
// and returns the gradient with respect to its input. Storage is float32
// throughout (Tensor is a shape and a []float32).
//
// Every result is deterministic, bit for bit, across platforms, builds and
// runs, following the rules of kernels/DETERMINISM.md: every product that
// is added to something is rounded explicitly (float32(a*b)), sums run in a
// fixed order (kernels.Dot's canonical 8-lane order for dot products),
// transcendental functions are kernels.Exp or this package's own log built
// from exactly rounded operations, random numbers come from engine/sample's
// RNG, and no map order reaches a result.
//
// Layers and optimisers hold state between calls and are not safe for
// concurrent use; a game trains one model from one goroutine at a time.
//
// The forward outputs and gradients of every layer, loss and optimiser are
// checked against PyTorch (ci/reference/nn_golden.py writes
// testdata/golden.json) and, for the layers, against central finite
// differences of the forward pass.
package nn
