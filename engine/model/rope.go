package model

import (
	"fmt"
	"math"

	"github.com/loomai/loom/engine/config"
	"github.com/loomai/loom/kernels"
)

// Rotary position embedding. HF computes the inverse frequencies once in
// float32 and, for every position p, cos and sin of float32(inv_freq*p).
// This file does the same, with its own deterministic float64 pow (exp of
// log) in place of PyTorch's float32 pow and kernels.Cos/Sin in place of
// PyTorch's float32 cos/sin; each result is rounded to float32 once, so it
// is the correctly rounded value (or within an ulp of it) on every platform.

// invFreqs returns HF's inv_freq for a head of headDim values: headDim/2
// float32 values 1/theta^(2i/headDim), then rescaled as the rope scaling
// says (nil for none, "linear" or "llama3"; config.Parse has validated
// the parameters). Another scaling type is ErrUnsupported.
func invFreqs(theta float64, headDim int, s *config.RopeScaling) ([]float32, error) {
	inv := defaultInvFreqs(theta, headDim)
	if err := scaleInvFreqs(inv, s); err != nil {
		return nil, err
	}
	return inv, nil
}

// defaultInvFreqs is HF's unscaled inv_freq,
// 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), all in float32
// (the Python base is cast to float32 first), with the power correctly
// rounded (PyTorch's vectorised powf is within an ulp of it).
func defaultInvFreqs(theta float64, headDim int) []float32 {
	base := float32(theta)
	inv := make([]float32, headDim/2)
	for i := range inv {
		e := float32(2*i) / float32(headDim)
		inv[i] = 1 / kernels.Pow32(base, e)
	}
	return inv
}

// scaleInvFreqs applies rope scaling s to inv in place.
func scaleInvFreqs(inv []float32, s *config.RopeScaling) error {
	switch {
	case s == nil:
	case s.Type == "linear":
		f := float32(s.Factor)
		for i := range inv {
			inv[i] /= f
		}
	case s.Type == "llama3":
		llama3Scale(inv, s)
	default:
		return fmt.Errorf("rope scaling type %q: %w", s.Type, ErrUnsupported)
	}
	return nil
}

// llama3Scale rescales inv in place like HF's _compute_llama3_parameters,
// every tensor operation in float32 with the Python scalars cast to
// float32 as PyTorch does, and `scalar / tensor` computed as PyTorch's
// Tensor.__rtruediv__ does it, reciprocal(tensor) * scalar:
//
//	wavelen = 2π / inv
//	low, high = old/low_freq_factor, old/high_freq_factor (Python floats)
//	if wavelen > low: inv / factor
//	elif wavelen < high: inv
//	else: smooth = (old/wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
//	      (1 - smooth) * inv / factor + smooth * inv
func llama3Scale(inv []float32, s *config.RopeScaling) {
	old := float64(s.OriginalMaxPositionEmbeddings)
	lowWavelen := float32(old / s.LowFreqFactor)
	highWavelen := float32(old / s.HighFreqFactor)
	factor := float32(s.Factor)
	lowFactor := float32(s.LowFreqFactor)
	span := float32(s.HighFreqFactor - s.LowFreqFactor)
	twoPi := float32(2 * math.Pi)
	for i, f := range inv {
		wavelen := float32(1/f) * twoPi
		switch {
		case wavelen > lowWavelen:
			inv[i] = f / factor
		case wavelen < highWavelen:
		default:
			smooth := (float32(float32(1/wavelen)*float32(old)) - lowFactor) / span
			inv[i] = float32(float32((1-smooth)*f)/factor) + float32(smooth*f)
		}
	}
}

// ropeAt writes cos and sin of float32(inv[i]*pos) for every i: HF's
// freqs = inv_freq @ position_ids in float32 (one rounded product each),
// then cos and sin rounded once to float32.
func ropeAt(cos, sin, inv []float32, pos int) {
	p := float32(pos)
	for i, f := range inv {
		a := float64(float32(f * p))
		cos[i] = float32(kernels.Cos(a))
		sin[i] = float32(kernels.Sin(a))
	}
}
