package kernels

import "math"

// Float64 helpers for values that must be the same on every platform (RoPE
// frequencies, training's Gaussian draws): math.Log, math.Exp and math.Pow
// may use fused multiply-adds or assembly that differ between
// architectures, these round every operation on its own.

// Pow32 returns base**e rounded to float32, computed as exp(e*log(base))
// in float64. The float64 result is within a few ulp (of float64) of the
// exact power, so the float32 rounding is the correct one except in the
// rarest ties, and it is the same on every platform.
func Pow32(base, e float32) float32 {
	return float32(Exp64(float64(e) * Log64(float64(base))))
}

// ln 2 split for Cody-Waite reduction (fdlibm's constants): ln2Hi has
// trailing zero bits so that n*ln2Hi is exact for |n| < 2^20.
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
)

// Log64 returns the natural logarithm of a positive finite x with every
// operation rounded on its own (no fused multiply-add can change it):
// x = m*2^k with m in [√½, √2), and log(m) = 2*atanh(s), s = (m-1)/(m+1),
// summed as a series that is exhausted to below float64 precision for
// |s| <= 0.172.
func Log64(x float64) float64 {
	m, k := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		k--
	}
	s := (m - 1) / (m + 1)
	z := float64(s * s)
	// atanh(s) = s + s*z*(1/3 + z/5 + z^2/7 + ...); z^13/27 < 1e-21.
	p := 0.0
	for n := 27; n >= 3; n -= 2 {
		p = float64(p*z) + 1/float64(n)
	}
	atanh := s + float64(s*float64(z*p))
	fk := float64(k)
	return float64(fk*ln2Hi) + (float64(fk*ln2Lo) + float64(2*atanh))
}

// Exp64 returns e**y with every operation rounded on its own: y = k*ln2 + r
// with |r| <= ln2/2, exp(r) from its Taylor series to degree 17 (the
// remainder is below 1e-23) and the power of two applied exactly.
func Exp64(y float64) float64 {
	k := math.RoundToEven(y / math.Ln2)
	r := (y - float64(k*ln2Hi)) - float64(k*ln2Lo)
	p := 1.0
	for n := 17; n >= 1; n-- {
		p = 1 + float64(r*p)/float64(n)
	}
	return math.Ldexp(p, int(k))
}
