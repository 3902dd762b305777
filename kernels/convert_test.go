package kernels

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
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
