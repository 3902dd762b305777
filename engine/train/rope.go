package train

import (
	"math"

	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// RoPE tables. These are engine/model's (rope.go there): HF's float32
// inv_freq = 1/theta^(2i/headDim) with the power from kernels.Pow32, and
// for position p cos and sin of float32(inv_freq*p) from kernels.Cos/Sin. They must stay
// identical to engine/model's, which TestForwardMatchesInference checks
// bit for bit; engine/model does not export them.

// invFreqs returns the headDim/2 inverse frequencies for base theta.
func invFreqs(theta float64, headDim int) []float32 {
	base := float32(theta)
	inv := make([]float32, headDim/2)
	for i := range inv {
		e := float32(2*i) / float32(headDim)
		inv[i] = 1 / kernels.Pow32(base, e)
	}
	return inv
}

// ropeTables returns cos and sin for positions 0..n-1, each position's
// headDim/2 values in a row.
func ropeTables(inv []float32, n int) (cos, sin []float32) {
	half := len(inv)
	cos = make([]float32, n*half)
	sin = make([]float32, n*half)
	for pos := range n {
		p := float32(pos)
		for i, f := range inv {
			a := float64(float32(f * p))
			cos[pos*half+i] = float32(kernels.Cos(a))
			sin[pos*half+i] = float32(kernels.Sin(a))
		}
	}
	return cos, sin
}

// gaussian draws standard normal values from Loom's seeded generator by
// the Box-Muller transform with the deterministic kernels.Log64 and
// kernels.Cos/Sin, so a seed gives the same values on every platform.
type gaussian struct {
	rng   *sample.RNG
	spare float64
	has   bool
}

func newGaussian(seed uint64) *gaussian { return &gaussian{rng: sample.NewRNG(seed)} }

// next returns one N(0, 1) draw: for uniform u1 in (0, 1] and u2 in
// [0, 1), r = sqrt(-2 log u1) and the pair r·cos(2πu2), r·sin(2πu2), the
// second kept for the following call.
func (g *gaussian) next() float64 {
	if g.has {
		g.has = false
		return g.spare
	}
	u1 := 1 - float64(float64(g.rng.Uint64()>>11)*(1.0/(1<<53)))
	u2 := float64(g.rng.Uint64()>>11) * (1.0 / (1 << 53))
	r := math.Sqrt(-2 * kernels.Log64(u1))
	a := float64(2*math.Pi) * u2
	g.spare, g.has = float64(r*kernels.Sin(a)), true
	return float64(r * kernels.Cos(a))
}

// fill sets every value of dst to std times a normal draw.
func (g *gaussian) fill(dst []float32, std float32) {
	for i := range dst {
		dst[i] = float32(float32(g.next()) * std)
	}
}
