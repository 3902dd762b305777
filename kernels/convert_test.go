package kernels

import (
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestF16ToF32Values checks every finite binary16 pattern against the
// value its fields define, computed in float64 with math.Ldexp, and the
// special patterns by hand.
func TestF16ToF32Values(t *testing.T) {
	for h := range 1 << 16 {
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		exp, mant := (h>>10)&0x1f, h&0x3ff
		got := F16ToF32(uint16(h))
		switch {
		case exp == 0x1f && mant == 0:
			assert.Equal(t, math.Inf(int(sign)), float64(got), "%#04x", h)
		case exp == 0x1f:
			assert.True(t, got != got, "%#04x is NaN", h)
			assert.Equal(t, uint32(h&0x8000)<<16|0x7fc00000|uint32(mant)<<13, math.Float32bits(got), "%#04x payload", h)
		case exp == 0:
			want := sign * math.Ldexp(float64(mant), -24)
			assert.Equal(t, math.Float64bits(want), math.Float64bits(float64(got)), "%#04x", h)
		default:
			want := sign * math.Ldexp(float64(mant|0x400), exp-25)
			assert.Equal(t, math.Float64bits(want), math.Float64bits(float64(got)), "%#04x", h)
		}
	}
	assert.Equal(t, float32(65504), F16ToF32(0x7bff))
	assert.Equal(t, float32(1), F16ToF32(0x3c00))
	assert.Equal(t, uint32(0x80000000), math.Float32bits(F16ToF32(0x8000)), "-0")
}

func TestBF16ToF32Values(t *testing.T) {
	for h := range 1 << 16 {
		exp, mant := (h>>7)&0xff, h&0x7f
		sign := 1.0
		if h&0x8000 != 0 {
			sign = -1
		}
		got := float64(BF16ToF32(uint16(h)))
		switch {
		case exp == 0xff && mant == 0:
			assert.Equal(t, math.Inf(int(sign)), got, "%#04x", h)
		case exp == 0xff:
			assert.True(t, got != got, "%#04x is NaN", h)
		case exp == 0:
			assert.Equal(t, math.Float64bits(sign*math.Ldexp(float64(mant), -133)), math.Float64bits(got), "%#04x", h)
		default:
			assert.Equal(t, math.Float64bits(sign*math.Ldexp(float64(mant|0x80), exp-134)), math.Float64bits(got), "%#04x", h)
		}
	}
}

// TestF32ToF16Golden checks F32ToF16 against numpy's and PyTorch's
// conversions in testdata/f32_to_f16.bin (written by
// ci/reference/f16_golden.py): every subnormal rounding boundary, a sample
// of every normal binade's boundaries, overflow, float32 subnormals,
// infinities, NaNs and random float32 patterns, with both signs.
func TestF32ToF16Golden(t *testing.T) {
	data, err := os.ReadFile("testdata/f32_to_f16.bin")
	require.NoError(t, err)
	require.Zero(t, len(data)%6, "6-byte records")
	require.Greater(t, len(data)/6, 20000)
	bad := 0
	for r := 0; r < len(data); r += 6 {
		in := binary.LittleEndian.Uint32(data[r:])
		want := binary.LittleEndian.Uint16(data[r+4:])
		if got := F32ToF16(math.Float32frombits(in)); got != want {
			bad++
			if bad <= 10 {
				t.Errorf("F32ToF16(%#08x) = %#04x, numpy/torch %#04x", in, got, want)
			}
		}
	}
	assert.Zero(t, bad, "values that differ from the reference")
}

// TestF32ToF16RoundTrip converts every binary16 pattern to float32 and
// back: finite values and infinities come back unchanged, a NaN comes back
// quiet (bit 9 set) with its sign and payload.
func TestF32ToF16RoundTrip(t *testing.T) {
	for h := range 1 << 16 {
		want := uint16(h)
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			want |= 0x200
		}
		assert.Equal(t, want, F32ToF16(F16ToF32(uint16(h))), "%#04x", h)
	}
}

// TestF32ToF16Boundaries checks every rounding boundary of the binary16
// range, both signs, from the definition of round-to-nearest-even: for
// each pair of adjacent finite binary16 values a < b (b = 2^16 past the
// largest, which is where rounding overflows to Inf), the float32 just
// below their midpoint gives a, the one just above gives b, and the
// midpoint itself (exact in float32) gives the one with an even mantissa.
// The values come from F16ToF32, which TestF16ToF32Values checks.
func TestF32ToF16Boundaries(t *testing.T) {
	for h := range 0x7c00 {
		for _, sign := range []uint16{0, 0x8000} {
			a, b := uint16(h)|sign, uint16(h+1)|sign // h+1 == 0x7c00 is Inf
			va, vb := float64(F16ToF32(a)), float64(F16ToF32(b))
			if h == 0x7bff {
				vb = math.Copysign(65536, va)
			}
			mid := float32((va + vb) / 2)
			require.Equal(t, (va+vb)/2, float64(mid), "%#04x: midpoint exact in float32", a)
			even := a
			if h&1 == 1 {
				even = b
			}
			below := math.Nextafter32(mid, float32(va))
			above := math.Nextafter32(mid, float32(vb))
			if h == 0x7bff {
				above = math.Nextafter32(mid, float32(math.Copysign(math.Inf(1), va)))
			}
			assert.Equal(t, a, F32ToF16(below), "%#04x: just inside the midpoint", a)
			assert.Equal(t, even, F32ToF16(mid), "%#04x: the midpoint goes to even", a)
			assert.Equal(t, b, F32ToF16(above), "%#04x: just past the midpoint", a)
		}
	}
}
