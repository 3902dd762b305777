package kernels

import (
	"math"
	"testing"
)

// rng is splitmix64: a fixed, portable generator for test inputs (the
// project never uses math/rand).
type rng struct{ s uint64 }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a value in [-1, 1).
func (r *rng) float() float32 {
	return float32(int32(r.next()>>32)) / (1 << 31)
}

// specialValues are mixed into vectors to check that the twins agree on
// zeros of both signs, denormals, infinities and NaN.
var specialValues = []float32{
	0, float32(math.Copysign(0, -1)), math.Float32frombits(1), -math.Float32frombits(0x007fffff),
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3e38, -3e38, 1e-30,
}

// vec returns n values in [-1, 1); with special, about one in sixteen is
// replaced by a special value.
func (r *rng) vec(n int, special bool) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = r.float()
		if special && r.next()%16 == 0 {
			v[i] = specialValues[r.next()%uint64(len(specialValues))]
		}
	}
	return v
}

// halves returns n random 16-bit patterns. With special false they are
// normal numbers of magnitude 2^-10 to 2 (bf16: 2^-7 to 2^57), like trained
// weights; with special true they are any pattern, subnormals, infinities
// and NaNs included.
func (r *rng) halves(n int, dt DType, special bool) []uint16 {
	v := make([]uint16, n)
	for i := range v {
		h := uint16(r.next())
		if !special {
			if dt == F16 {
				h = h&0x83ff | uint16(5+r.next()%11)<<10 // exponent 5..15
			} else {
				h = h&0x807f | 0x3c00 | uint16(r.next()%64)<<7 // exponent 120..183
			}
		}
		v[i] = h
	}
	return v
}

// guard is the value written around output slices to catch stray writes.
var guard = math.Float32frombits(0x7fa5a5a5)

const guardLen = 9

// guarded returns a slice of n elements with guardLen guard values on
// either side in its backing array.
func guarded(n int) (buf, s []float32) {
	buf = make([]float32, n+2*guardLen)
	for i := range buf {
		buf[i] = guard
	}
	return buf, buf[guardLen : guardLen+n : guardLen+n]
}

// checkGuards fails the test if anything wrote outside the middle n values.
func checkGuards(t *testing.T, buf []float32, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < guardLen || i >= guardLen+n) && math.Float32bits(v) != math.Float32bits(guard) {
			t.Fatalf("guard %d of %d overwritten: %#x", i, len(buf), math.Float32bits(v))
		}
	}
}

// sameBits reports whether a and b are the same float32, all NaNs being
// the same (their payloads are not part of the determinism contract).
func sameBits(a, b float32) bool {
	if a != a && b != b {
		return true
	}
	return math.Float32bits(a) == math.Float32bits(b)
}

// ulpDiff returns |got-want| in units of the last place of want as a
// float32 (the subnormal spacing 2^-149 below the normal range).
func ulpDiff(got float32, want float64) float64 {
	if got == float32(want) || (got != got && want != want) {
		return 0
	}
	if math.IsInf(float64(got), 0) || got != got {
		return math.Inf(1)
	}
	w := math.Abs(want)
	u := math.Ldexp(1, -149)
	if w >= 0x1p-126 {
		_, e := math.Frexp(w) // w = f * 2^e, f in [0.5, 1)
		u = math.Ldexp(1, e-24)
	}
	return math.Abs(float64(got)-want) / u
}

// ulpDiff64 is ulpDiff for float64 results.
func ulpDiff64(got, want float64) float64 {
	if got == want || (got != got && want != want) {
		return 0
	}
	w := math.Abs(want)
	u := math.Ldexp(1, -1074)
	if w >= 0x1p-1022 {
		_, e := math.Frexp(w)
		u = math.Ldexp(1, e-53)
	}
	return math.Abs(got-want) / u
}
