package kernels

import "math"

// Constants of Sin and Cos, from fdlibm (Sun Microsystems, freely
// distributable). π/2 is split into pieces of 33 significant bits
// (pio2_1, pio2_2, pio2_3) so that n*piece is exact for |n| < 2^20, each
// with the tail that follows it (pio2_1t = π/2 - pio2_1, and so on).
var (
	invPio2 = math.Float64frombits(0x3FE45F306DC9C883) // 2/π
	pio2_1  = math.Float64frombits(0x3FF921FB54400000)
	pio2_1t = math.Float64frombits(0x3DD0B4611A626331)
	pio2_2  = math.Float64frombits(0x3DD0B4611A600000)
	pio2_2t = math.Float64frombits(0x3BA3198A2E037073)
	pio2_3  = math.Float64frombits(0x3BA3198A2E000000)
	pio2_3t = math.Float64frombits(0x397B839A252049C1)
)

// fdlibm's minimax polynomials for sin and cos on [-π/4, π/4].
const (
	sinS1 = -1.66666666666666324348e-01
	sinS2 = 8.33333333332248946124e-03
	sinS3 = -1.98412698298579493134e-04
	sinS4 = 2.75573137070700676789e-06
	sinS5 = -2.50507602534068634195e-08
	sinS6 = 1.58969099521155010221e-10
	cosC1 = 4.16666666666666019037e-02
	cosC2 = -1.38888888888741095749e-03
	cosC3 = 2.48015872894767294178e-05
	cosC4 = -2.75573143513906633035e-07
	cosC5 = 2.08757232129817482790e-09
	cosC6 = -1.13596475577881948265e-11
)

// trigLimit is 2^20 * π/2: below it the reduction by π/2 is accurate to
// within an ulp of the reduced argument.
const trigLimit = 1647099.3291652855

// Sin returns sin(x), identically on every platform (every product is
// rounded on its own, so no FMA can change the result). x is reduced to
// y = x - n*π/2 with fdlibm's three-step Cody-Waite reduction and the
// fdlibm kernel polynomial is evaluated on y. The error is within 1 ulp for
// |x| <= 2^20*π/2 ≈ 1.6e6, enough for RoPE at positions past a million.
// Larger x is first reduced exactly modulo float64(2π) with math.Mod, so
// the result stays deterministic and in [-1, 1] but its error grows like
// |x|*2.4e-16 (float64(2π) is not 2π). Sin(±Inf) and Sin(NaN) are NaN;
// Sin(±0) = ±0.
func Sin(x float64) float64 {
	n, y0, y1 := reducePio2(x)
	switch n {
	case 0:
		return kernelSin(y0, y1)
	case 1:
		return kernelCos(y0, y1)
	case 2:
		return -kernelSin(y0, y1)
	}
	return -kernelCos(y0, y1)
}

// Cos returns cos(x) with the same reduction, accuracy and determinism as
// Sin. Cos(±Inf) and Cos(NaN) are NaN.
func Cos(x float64) float64 {
	n, y0, y1 := reducePio2(x)
	switch n {
	case 0:
		return kernelCos(y0, y1)
	case 1:
		return -kernelSin(y0, y1)
	case 2:
		return -kernelCos(y0, y1)
	}
	return kernelSin(y0, y1)
}

// reducePio2 returns n mod 4 and y0+y1 = x - n*π/2 with |y0+y1| <= π/4
// (about), following fdlibm's __ieee754_rem_pio2 medium case, which is
// accurate for |x| <= trigLimit.
func reducePio2(x float64) (n int, y0, y1 float64) {
	if math.IsInf(x, 0) || x != x {
		return 0, math.NaN(), 0
	}
	if math.Abs(x) <= math.Pi/4 {
		return 0, x, 0
	}
	if math.Abs(x) > trigLimit {
		x = math.Mod(x, 2*math.Pi) // exact, so the same everywhere
	}
	fn := math.RoundToEven(float64(x * invPio2))
	r := x - float64(fn*pio2_1) // exact for |fn| < 2^20
	w := float64(fn * pio2_1t)
	y0 = r - w
	// Cancellation check: if y0 lost more than 16 bits against x, redo the
	// subtraction with the next 33 bits of π/2, and again past 49 bits.
	ex := exponent(x)
	if ex-exponent(y0) > 16 {
		t := r
		w = float64(fn * pio2_2)
		r = t - w
		w = float64(fn*pio2_2t) - ((t - r) - w)
		y0 = r - w
		if ex-exponent(y0) > 49 {
			t = r
			w = float64(fn * pio2_3)
			r = t - w
			w = float64(fn*pio2_3t) - ((t - r) - w)
			y0 = r - w
		}
	}
	y1 = (r - y0) - w
	// math.Mod is exact, so n is right even where fn is too large for an
	// int conversion to be portable.
	return int(math.Mod(fn, 4)) & 3, y0, y1
}

// exponent returns the biased exponent field of x.
func exponent(x float64) int {
	return int(math.Float64bits(x)>>52) & 0x7ff
}

// kernelSin is fdlibm's __kernel_sin(x, y, 1): sin(x+y) for |x| <= π/4,
// y the tail of the reduced argument.
func kernelSin(x, y float64) float64 {
	z := float64(x * x)
	v := float64(z * x)
	r := sinS2 + float64(z*(sinS3+float64(z*(sinS4+float64(z*(sinS5+float64(z*sinS6)))))))
	return x - ((float64(z*(float64(0.5*y)-float64(v*r))) - y) - float64(v*sinS1))
}

// kernelCos is fdlibm's __kernel_cos(x, y): cos(x+y) for |x| <= π/4.
func kernelCos(x, y float64) float64 {
	z := float64(x * x)
	w := float64(z * z)
	r := float64(z*(cosC1+float64(z*(cosC2+float64(z*cosC3))))) +
		float64(float64(w*w)*(cosC4+float64(z*(cosC5+float64(z*cosC6)))))
	hz := float64(0.5 * z)
	w = 1 - hz
	return w + (((1 - w) - hz) + (float64(z*r) - float64(x*y)))
}
