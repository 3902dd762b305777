package train

import (
	"math"

	"github.com/loomai/loom/engine/sample"
	"github.com/loomai/loom/kernels"
)

// RoPE tables. These are engine/model's (rope.go there): HF's float32
// inv_freq = 1/theta^(2i/headDim) with the power computed as a
// deterministic float64 exp(e*log(base)) rounded once, and for position p
// cos and sin of float32(inv_freq*p) from kernels.Cos/Sin. They must stay
// identical to engine/model's, which TestForwardMatchesInference checks
// bit for bit; engine/model does not export them.

// invFreqs returns the headDim/2 inverse frequencies for base theta.
func invFreqs(theta float64, headDim int) []float32 {
	base := float32(theta)
	inv := make([]float32, headDim/2)
	for i := range inv {
		e := float32(2*i) / float32(headDim)
		inv[i] = 1 / float32(exp64(float64(e)*log64(float64(base))))
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

// ln 2 split for Cody-Waite reduction (fdlibm's constants).
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// log64 is the natural logarithm of a positive finite x with every
// operation rounded on its own: log(m) = 2*atanh((m-1)/(m+1)) for
// m in [√½, √2), summed until the series is below float64 precision.
func log64(x float64) float64 {
	m, k := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		k--
	}
	s := (m - 1) / (m + 1)
	z := float64(s * s)
	p := 0.0
	for n := 27; n >= 3; n -= 2 {
		p = float64(p*z) + 1/float64(n)
	}
	atanh := s + float64(s*float64(z*p))
	fk := float64(k)
	return float64(fk*ln2Hi) + (float64(fk*ln2Lo) + float64(2*atanh))
}

// exp64 is e**y with every operation rounded on its own: y = k*ln2 + r,
// exp(r) by its Taylor series to degree 17, then the exact power of two.
func exp64(y float64) float64 {
	k := math.RoundToEven(y / math.Ln2)
	r := (y - float64(k*ln2Hi)) - float64(k*ln2Lo)
	p := 1.0
	for n := 17; n >= 1; n-- {
		p = 1 + float64(r*p)/float64(n)
	}
	return math.Ldexp(p, int(k))
}

// gaussian draws standard normal values from Loom's seeded generator by
// the Box-Muller transform with this package's deterministic log64 and
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
	r := math.Sqrt(-2 * log64(u1))
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
