package kernels

import "math"

// F16ToF32 converts IEEE 754 binary16 bits to the float32 of the same value.
// Every binary16 value is representable in float32, so the conversion is
// exact: subnormals become normal float32 values, ±0 and ±Inf keep their
// sign, and a NaN becomes a quiet NaN with its sign and its payload in the
// top of the float32 mantissa, as the F16C instruction VCVTPH2PS and
// PyTorch convert it (a signalling NaN gets the quiet bit set).
//
// Finite values are converted by placing the 15 magnitude bits at the top
// of a float32 (a float32 with exponent e-112) and multiplying by 2^112;
// the product is exact, subnormal inputs included, so no rounding mode or
// platform can change it. Go never enables flush-to-zero.
func F16ToF32(h uint16) float32 {
	b := math.Float32bits(math.Float32frombits(uint32(h&0x7fff)<<13) * 0x1p112)
	if h&0x7c00 == 0x7c00 { // Inf, or NaN with the quiet bit set
		b = 0x7f800000 | uint32(h&0x3ff)<<13
		if h&0x3ff != 0 {
			b |= 0x400000
		}
	}
	return math.Float32frombits(uint32(h&0x8000)<<16 | b)
}

// BF16ToF32 converts bfloat16 bits to float32. bfloat16 is the top half of
// a float32, so the conversion is the exact shift uint32(h)<<16 for every
// input, NaN payloads included.
func BF16ToF32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}
