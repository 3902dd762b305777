package kernels

import "math"

// Constants of Exp. ln2Hi has 9 significant bits, so n*ln2Hi is exact for
// every |n| <= 2^15 and x - n*ln2Hi loses nothing; ln2Lo carries the rest
// of ln 2. The polynomial coefficients are the Cephes expf minimax
// coefficients for exp(r) = 1 + r + r^2*P(r) on |r| <= ln2/2.
const (
	expLog2e = 1.44269504088896341
	expRound = 0x1.8p23 // adding and subtracting it rounds to an integer
	expLn2Hi = 0.693359375
	expLn2Lo = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	// Past these bounds exp(x) is +Inf or 0 in float32 (the thresholds are
	// near 88.7228 and -103.9721); between the thresholds and these bounds
	// scale2 rounds to +Inf or 0 itself.
	expOverflow  = 89
	expUnderflow = -104
)

// Exp returns e**x in float32, identically on every platform: the same
// float32 operations, each rounded, in the same order everywhere.
//
//	t := x * log2e
//	n := (t + 1.5*2^23) - 1.5*2^23              // RoundToEven(t), |t| < 2^22
//	r := (x - n*ln2Hi) - n*ln2Lo
//	p := ((((((P0*r + P1)*r + P2)*r + P3)*r + P4)*r + P5) * (r*r) + r) + 1
//	Exp(x) = (p * 2^a) * 2^b                     // a+b = n, see scale2
//
// Over every float32 input the result is within 0.991 ulp of the exact
// value (checked exhaustively against math.Exp once; the tests sample).
// Exp(NaN) = NaN, Exp(+Inf) = +Inf, Exp(-Inf) = 0; results overflow to +Inf
// and underflow through the subnormals to 0 as the exact value rounds. The
// AVX2 kernels behind Softmax and SwiGLU compute this same sequence eight
// lanes at a time.
func Exp(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > expOverflow:
		return float32(math.Inf(1))
	case x < expUnderflow:
		return 0
	}
	t := float32(x * expLog2e)
	n := (t + expRound) - expRound
	r := x - float32(n*expLn2Hi)
	r -= float32(n * expLn2Lo)
	z := float32(r * r)
	p := float32(expP0*r) + expP1
	p = float32(p*r) + expP2
	p = float32(p*r) + expP3
	p = float32(p*r) + expP4
	p = float32(p*r) + expP5
	p = float32(p*z) + r
	p++
	return scale2(p, int(n))
}

// scale2 returns p * 2^n for p in [0.5, 2) and n in [-151, 129] with one
// rounding, as (p * 2^a) * 2^b where both factors are normal float32
// powers of two: a = n, b = 0 inside the normal range; a = 127,
// b = n-127 above it; a = n+64, b = -64 below it. The first product is then
// always exact and only the second rounds (multiplying by 2^0 changes
// nothing).
func scale2(p float32, n int) float32 {
	b := 0
	switch {
	case n > 127:
		b = n - 127
	case n < -126:
		b = -64
	}
	return float32(p*pow2(n-b)) * pow2(b)
}

// pow2 returns 2^n for -126 <= n <= 127 as a normal float32.
func pow2(n int) float32 {
	return math.Float32frombits(uint32(n+127) << 23)
}
