package sample

// RNG is Loom's seeded pseudo-random generator: xoshiro256** 1.0 (Blackman
// and Vigna, https://prng.di.unimi.it/xoshiro256starstar.c) whose 256-bit
// state is filled with the first four outputs of SplitMix64
// (https://prng.di.unimi.it/splitmix64.c) started from the seed, as the
// authors recommend. It is specified here, not borrowed from math/rand, so
// that a seed gives the same stream on every platform and Go version.
//
// The zero RNG is not usable; make one with NewRNG.
type RNG struct {
	s [4]uint64
}

// NewRNG returns the generator for seed. Every seed, 0 included, is valid:
// SplitMix64 never yields an all-zero xoshiro state from it.
func NewRNG(seed uint64) *RNG {
	r := &RNG{}
	x := seed
	for i := range r.s {
		r.s[i] = splitMix64(&x)
	}
	return r
}

// splitMix64 advances *x and returns its next output, exactly as the
// reference splitmix64.c next().
func splitMix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uint64 returns the next xoshiro256** output, exactly as the reference
// xoshiro256starstar.c next().
func (r *RNG) Uint64() uint64 {
	s := &r.s
	result := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return result
}

// Float32 returns a uniform float32 in [0, 1): the top 24 bits of the next
// Uint64 divided by 2^24. Every value is an exact multiple of 2^-24, so the
// draw involves no rounding at all.
func (r *RNG) Float32() float32 {
	return float32(r.Uint64()>>40) * (1.0 / (1 << 24))
}

func rotl(x uint64, k uint) uint64 {
	return (x << k) | (x >> (64 - k))
}
