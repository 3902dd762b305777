package nn

import (
	"math"

	"github.com/loomai/loom/kernels"
)

// Constants of log64: ln 2 split as in fdlibm's e_log.c, ln2Hi with its low
// 32 bits zero so that e*ln2Hi is exact for every binary64 exponent e.
const (
	ln2Hi = 6.93147180369123816490e-01
	ln2Lo = 1.90821492927058770002e-10
	// logTerms is how many terms of the atanh series log64 sums: with
	// |s| <= 3-2*sqrt(2) ≈ 0.1716 the first omitted term, s^23/23, is
	// below 2^-60 times the result.
	logTerms = 11
)

// log64 returns the natural logarithm of x, identically on every platform:
// x = f * 2^e with f in [sqrt(1/2), sqrt(2)) (math.Frexp, exact), then
// log f = 2*atanh(s) with s = (f-1)/(f+1), summed as the odd series
// 2s(1 + s²/3 + s⁴/5 + ... + s^20/21) by Horner's rule with every product
// rounded explicitly, and log x = e*ln2Hi + (e*ln2Lo + log f). The result is
// within a few ulp of the exact value. log64(0) = -Inf, log64(+Inf) = +Inf,
// and a negative or NaN x gives NaN. math.Log is not used because its
// result may differ by platform (assembly, fused multiply-adds).
func log64(x float64) float64 {
	switch {
	case x != x || x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	case math.IsInf(x, 1):
		return x
	}
	f, e := math.Frexp(x) // x = f * 2^e, f in [0.5, 1)
	if f < math.Sqrt2/2 {
		f *= 2
		e--
	}
	s := (f - 1) / (f + 1)
	z := float64(s * s)
	p := 1.0 / (2*logTerms - 1)
	for k := logTerms - 2; k >= 0; k-- {
		p = float64(p*z) + 1/float64(2*k+1)
	}
	logf := float64(2 * float64(s*p))
	fe := float64(e)
	return float64(fe*ln2Hi) + (float64(fe*ln2Lo) + logf)
}

// log1p64 returns log(1+x) for x >= -1 accurately also for tiny x, by
// Kahan's trick: with u = 1+x rounded, log(u) * x/(u-1) corrects for the
// rounding of u (Goldberg 1991, "What every computer scientist should know
// about floating-point arithmetic", Theorem 4).
func log1p64(x float64) float64 {
	u := 1 + x
	if u == 1 {
		return x
	}
	if math.IsInf(u, 1) {
		return u
	}
	return float64(log64(u)*x) / (u - 1)
}

// sigmoid returns 1/(1+Exp(-x)), PyTorch's CPU formula, with kernels.Exp.
func sigmoid(x float32) float32 {
	return 1 / (1 + kernels.Exp(-x))
}

// tanh returns the hyperbolic tangent of x within about one float32 ulp.
// For t = |x| and u = kernels.Exp(-2t), in float64: tanh(t) = (1-u)/(1+u)
// where t >= 0.55 (u <= 1/3, so 1-u loses nothing); below, where 1-u would
// cancel, em = expm1(-2t) is computed by Kahan's trick as
// (u-1)*(-2t)/log(u) and tanh(t) = -em/(em+2). Beyond |x| = 9.1, tanh
// rounds to ±1 in float32. NaN stays NaN.
func tanh(x float32) float32 {
	t := x
	if t < 0 {
		t = -t
	}
	switch {
	case x != x:
		return x
	case t > 9.1:
		return float32(math.Copysign(1, float64(x)))
	case t == 0:
		return x
	}
	y := float64(-2 * t) // exact: doubling a float32
	u := float64(kernels.Exp(float32(y)))
	var r float32
	switch {
	case t >= 0.55:
		r = float32((1 - u) / (1 + u))
	case u == 1:
		r = float32(-y / (y + 2))
	default:
		em := float64((u-1)*y) / log64(u)
		r = float32(-em / (em + 2))
	}
	if x < 0 {
		return -r
	}
	return r
}

// softplus returns PyTorch's Softplus with beta 1 and threshold 20:
// x for x > 20, else log(1 + exp(x)) with exp from kernels.Exp and the
// logarithm computed in float64 (log1p64), rounded to float32.
func softplus(x float32) float32 {
	if x > 20 {
		return x
	}
	return float32(log1p64(float64(kernels.Exp(x))))
}

// sum32 returns the sum of v in the canonical 8-lane order of kernels.Dot
// (lane l adds v[k] for k%8 == l in increasing k, starting at +0; the lanes
// are reduced as ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7))).
func sum32(v []float32) float32 {
	var l [8]float32
	for k, x := range v {
		l[k&7] += x
	}
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}
