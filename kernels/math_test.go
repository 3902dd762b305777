package kernels

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExpSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	tests := []struct {
		x, want float32
	}{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{inf, inf},
		{-inf, 0},
		{89, inf},
		{1000, inf},
		{-104, 0},
		{-1000, 0},
		{math.Float32frombits(1), 1},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, Exp(tc.x), "Exp(%v)", tc.x)
	}
	nan := Exp(float32(math.NaN()))
	assert.True(t, nan != nan, "Exp(NaN)")
}

// TestExpAccuracy compares Exp with math.Exp (a float64 result is far more
// precise than the float32 answer) on every 1021st float32 bit pattern and
// densely around the overflow and underflow thresholds and the subnormal
// range, where the final scaling is delicate.
func TestExpAccuracy(t *testing.T) {
	worst, at := 0.0, float32(0)
	check := func(x float32) {
		d := ulpDiff(Exp(x), math.Exp(float64(x)))
		if d > worst {
			worst, at = d, x
		}
	}
	for b := uint64(0); b < 1<<32; b += 1021 {
		if x := math.Float32frombits(uint32(b)); x == x {
			check(x)
		}
	}
	for _, center := range []float32{88.72284, -87.33655, -103.27893, -103.97208, -100, 0.3465736, -0.3465736} {
		x := center
		for range 20000 {
			x = math.Nextafter32(x, float32(math.Inf(-1)))
		}
		for range 40000 {
			check(x)
			x = math.Nextafter32(x, float32(math.Inf(1)))
		}
	}
	t.Logf("Exp: worst %.4f ulp at %v", worst, at)
	assert.LessOrEqual(t, worst, 1.0, "Exp error at %v", at)
}

// piDigits is π to 110 significant digits, for the high-precision
// reference below.
const piDigits = "3.1415926535897932384626433832795028841971693993751058209749445923078164062862089986280348253421170679821480865"

// bigSinCos returns sin(x) and cos(x) rounded to float64 from a 320-bit
// computation: x reduced by π/2 exactly enough, then Taylor series.
func bigSinCos(x float64) (float64, float64) {
	const prec = 320
	pi, _, err := big.ParseFloat(piDigits, 10, prec, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	halfPi := new(big.Float).SetPrec(prec).Quo(pi, big.NewFloat(2))
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	q := new(big.Float).SetPrec(prec).Quo(bx, halfPi)
	k, _ := q.Int(nil) // truncated toward zero
	r := new(big.Float).SetPrec(prec).Mul(new(big.Float).SetPrec(prec).SetInt(k), halfPi)
	r.Sub(bx, r) // x - k*π/2, |r| < π/2
	// Taylor series: sin r = sum (-1)^i r^(2i+1)/(2i+1)!, cos likewise.
	r2 := new(big.Float).SetPrec(prec).Mul(r, r)
	sin := new(big.Float).SetPrec(prec)
	cos := new(big.Float).SetPrec(prec)
	ts := new(big.Float).SetPrec(prec).Set(r)
	tc := new(big.Float).SetPrec(prec).SetInt64(1)
	for i := int64(1); i < 80; i++ {
		sin.Add(sin, ts)
		cos.Add(cos, tc)
		ts.Mul(ts, r2)
		ts.Quo(ts, big.NewFloat(float64(-(2*i)*(2*i+1))))
		tc.Mul(tc, r2)
		tc.Quo(tc, big.NewFloat(float64(-(2*i-1)*(2*i))))
	}
	s, _ := sin.Float64()
	c, _ := cos.Float64()
	switch new(big.Int).Mod(k, big.NewInt(4)).Int64() {
	case 1:
		return c, -s
	case 2:
		return -s, -c
	case 3:
		return -c, s
	}
	return s, c
}

// trigInputs are the arguments the trig tests use: wide magnitudes of
// both signs, the float64 values nearest to multiples of π/2 (the worst
// cancellation), and RoPE-like angles pos*freq. They are built with exact
// operations only (no math.Exp2 or math.Pow, whose last bit differs between
// platforms), so every platform tests, and hashes, the same inputs.
func trigInputs() []float64 {
	r := &rng{6}
	var xs []float64
	for range 1500 {
		mant := float64(r.next()>>11) / (1 << 53) // [0, 1), exact
		x := math.Ldexp(0.5+mant/2, int(r.next()%54)-33)
		if r.next()%2 == 0 {
			x = -x
		}
		xs = append(xs, min(max(x, -trigLimit), trigLimit))
	}
	for _, k := range []float64{1, 2, 3, 4, 5, 7, 100, 355, 710, 1000, 33102, 103993, 260515, 1000000} {
		xs = append(xs, k*math.Pi/2, -k*math.Pi/2)
	}
	for _, pos := range []float64{1, 7, 4096, 131071, 999999} {
		for _, freq := range []float64{1, 0.31622776601683794, 0.0133352143216332, 1.1547819846894583e-4, 2.1e-6} {
			xs = append(xs, pos*freq)
		}
	}
	return xs
}

// TestSinCosAccuracy measures Sin and Cos against the 320-bit reference.
func TestSinCosAccuracy(t *testing.T) {
	worstS, worstC := 0.0, 0.0
	for _, x := range trigInputs() {
		s, c := bigSinCos(x)
		ds, dc := ulpDiff64(Sin(x), s), ulpDiff64(Cos(x), c)
		assert.LessOrEqual(t, ds, 1.0, "Sin(%v) = %v, want %v", x, Sin(x), s)
		assert.LessOrEqual(t, dc, 1.0, "Cos(%v) = %v, want %v", x, Cos(x), c)
		worstS, worstC = max(worstS, ds), max(worstC, dc)
	}
	t.Logf("Sin worst %.3f ulp, Cos worst %.3f ulp", worstS, worstC)
}

// TestSinCosDenseSweep sweeps the accurate domain densely. The standard
// library screens the results cheaply; where Sin or Cos differs from it by
// more than an ulp (math.Sin's own reduction is less precise near large
// multiples of π) the 320-bit reference decides.
func TestSinCosDenseSweep(t *testing.T) {
	const n = 200000
	arbitrated := 0
	for i := range n {
		x := (float64(i)/n*2-1)*trigLimit + float64(i%13)*1e-4
		s, c := Sin(x), Cos(x)
		if ulpDiff64(s, math.Sin(x)) <= 1 && ulpDiff64(c, math.Cos(x)) <= 1 {
			continue
		}
		arbitrated++
		ws, wc := bigSinCos(x)
		assert.LessOrEqual(t, ulpDiff64(s, ws), 1.0, "Sin(%v) = %v, want %v", x, s, ws)
		assert.LessOrEqual(t, ulpDiff64(c, wc), 1.0, "Cos(%v) = %v, want %v", x, c, wc)
	}
	t.Logf("%d of %d points differed from math by more than 1 ulp and were checked at 320 bits", arbitrated, n)
}

func TestSinCosSpecialValues(t *testing.T) {
	negZero := math.Copysign(0, -1)
	assert.Equal(t, math.Float64bits(negZero), math.Float64bits(Sin(negZero)), "Sin(-0)")
	assert.Equal(t, 0.0, Sin(0))
	assert.Equal(t, 1.0, Cos(0))
	assert.Equal(t, 1.0, Cos(negZero))
	assert.Equal(t, 1e-300, Sin(1e-300))
	for _, x := range []float64{math.Inf(1), math.Inf(-1), math.NaN()} {
		assert.True(t, math.IsNaN(Sin(x)), "Sin(%v)", x)
		assert.True(t, math.IsNaN(Cos(x)), "Cos(%v)", x)
	}
	// Far outside the accurate domain the results must still be values in
	// [-1, 1], and close to the truth while |x|*2.4e-16 is small.
	for _, x := range []float64{2e6, -3e7, 1e10, -1e17, 1e300, math.MaxFloat64} {
		s, c := Sin(x), Cos(x)
		assert.True(t, math.Abs(s) <= 1 && math.Abs(c) <= 1, "Sin, Cos(%v) = %v, %v", x, s, c)
		if math.Abs(x) < 1e11 {
			ws, wc := bigSinCos(x)
			assert.InDelta(t, ws, s, math.Abs(x)*1e-15, "Sin(%v)", x)
			assert.InDelta(t, wc, c, math.Abs(x)*1e-15, "Cos(%v)", x)
		}
	}
}

func TestSiLUValues(t *testing.T) {
	assert.Equal(t, float32(0), SiLU(0))
	assert.Equal(t, float32(1000), SiLU(1000))
	assert.Equal(t, uint32(0x80000000), math.Float32bits(SiLU(-1000)), "-0 for large negative x")
	nan := SiLU(float32(math.NaN()))
	assert.True(t, nan != nan)
}

// TestExpLog64 checks the float64 helpers against math.Exp and math.Log
// (independent implementations, here only a reference for accuracy) to
// within 4 ulp over the range Pow32 uses.
func TestExpLog64(t *testing.T) {
	for _, x := range []float64{1e-30, 1e-5, 0.5, 0.7071, 1, 1.5, 2, 10, 10000, 500000, 1e6, 3.4e38} {
		want := math.Log(x)
		got := Log64(x)
		assert.InDelta(t, want, got, 4*ulp64(want)+1e-300, "Log64(%g)", x)
	}
	for _, y := range []float64{-103, -20, -1, -0.3, 0, 1e-9, 0.3, 1, 9.21, 20, 88.7} {
		want := math.Exp(y)
		got := Exp64(y)
		assert.InDelta(t, want, got, 4*ulp64(want), "Exp64(%g)", y)
	}
}

func ulp64(x float64) float64 {
	x = math.Abs(x)
	return math.Nextafter(x, math.Inf(1)) - x
}
