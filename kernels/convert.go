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

// F32ToF16 converts f to the nearest IEEE 754 binary16 value, ties to even,
// and returns its bits: the conversion of numpy's astype(float16),
// PyTorch's .to(torch.float16) and the F16C instruction VCVTPS2PH in its
// round-to-nearest-even mode. Magnitudes from 65520 (halfway between the
// largest binary16, 65504, and 2^16) up round to ±Inf; magnitudes below
// 2^-14 become binary16 subnormals, rounded to a multiple of 2^-24 (so
// 2^-25 and less give ±0, keeping the sign). A NaN stays a NaN, quiet, with
// its sign and the top ten bits of its payload, as PyTorch and VCVTPS2PH
// convert it (numpy keeps a signalling NaN's bits unquieted).
//
// It works on the bits alone (integer operations), so every platform and
// build gives the same result. F16ToF32(F32ToF16(F16ToF32(h))) ==
// F16ToF32(h) for every h: binary16 values come back unchanged.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	abs := b & 0x7fffffff
	switch {
	case abs > 0x7f800000: // NaN
		return sign | 0x7e00 | uint16(abs>>13)&0x3ff
	case abs >= 0x477ff000: // 65520 and up, Inf included
		return sign | 0x7c00
	case abs >= 0x38800000: // 2^-14 and up: a normal binary16
		// Rebias the exponent (127 to 15: 112<<23) and round the 23-bit
		// mantissa to 10 bits, to even; a carry out of the mantissa goes
		// correctly into the exponent.
		v := abs - 0x38000000
		v += 0xfff + (v>>13)&1
		return sign | uint16(v>>13)
	}
	// A binary16 subnormal (or zero): the value in units of 2^-24 is
	// m * 2^(e-126) for the float32's 24-bit significand m and exponent
	// field e (at most 112 here, so the shift is at least 14). From a shift
	// of 25 on, the value is below a quarter of a unit and rounds to zero;
	// float32 subnormals (e == 0) are far below that.
	e := abs >> 23
	shift := 126 - e
	if e == 0 || shift > 24 {
		return sign
	}
	m := abs&0x7fffff | 0x800000
	q := m >> shift
	rem := m & (1<<shift - 1)
	half := uint32(1) << (shift - 1)
	if rem > half || (rem == half && q&1 == 1) {
		q++ // may reach 0x400, the smallest normal: its encoding
	}
	return sign | uint16(q)
}
