/* Reference outputs for engine/sample's PRNG, produced from the authors'
   public-domain C code (https://prng.di.unimi.it/splitmix64.c and
   https://prng.di.unimi.it/xoshiro256starstar.c), reproduced below with the
   global state turned into a parameter so both can run in one program.

   Regenerate: gcc -O0 -o /tmp/prng_reference prng_reference.c &&
               /tmp/prng_reference > prng_reference.txt

   Output lines:
     splitmix64 SEED V1 ... V8             splitmix64 seeded with SEED
     xoshiro256ss S0 S1 S2 S3 V1 ... V10   xoshiro256** from state {S0..S3}
     loom SEED V1 ... V8                   xoshiro256** whose state is the
                                           first four splitmix64(SEED) outputs
   All numbers are unsigned decimal. */

/*  Written in 2015 by Sebastiano Vigna (vigna@acm.org)

To the extent possible under law, the author has dedicated all copyright
and related and neighboring rights to this software to the public domain
worldwide. This software is distributed without any warranty.

See <http://creativecommons.org/publicdomain/zero/1.0/>. */

#include <stdint.h>
#include <stdio.h>

static uint64_t splitmix64_next(uint64_t *x) {
	uint64_t z = (*x += 0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
	return z ^ (z >> 31);
}

/*  Written in 2018 by David Blackman and Sebastiano Vigna (vigna@acm.org)

To the extent possible under law, the author has dedicated all copyright
and related and neighboring rights to this software to the public domain
worldwide. This software is distributed without any warranty.

See <http://creativecommons.org/publicdomain/zero/1.0/>. */

static inline uint64_t rotl(const uint64_t x, int k) {
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro256ss_next(uint64_t s[4]) {
	const uint64_t result = rotl(s[1] * 5, 7) * 9;

	const uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];

	s[2] ^= t;

	s[3] = rotl(s[3], 45);

	return result;
}

/* End of the authors' code. */

static void splitmix(uint64_t seed) {
	uint64_t x = seed;
	printf("splitmix64 %llu", (unsigned long long)seed);
	for (int i = 0; i < 8; i++) printf(" %llu", (unsigned long long)splitmix64_next(&x));
	printf("\n");
}

static void xoshiro(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
	uint64_t s[4] = {a, b, c, d};
	printf("xoshiro256ss %llu %llu %llu %llu", (unsigned long long)a, (unsigned long long)b,
	       (unsigned long long)c, (unsigned long long)d);
	for (int i = 0; i < 10; i++) printf(" %llu", (unsigned long long)xoshiro256ss_next(s));
	printf("\n");
}

static void loom(uint64_t seed) {
	uint64_t x = seed, s[4];
	for (int i = 0; i < 4; i++) s[i] = splitmix64_next(&x);
	printf("loom %llu", (unsigned long long)seed);
	for (int i = 0; i < 8; i++) printf(" %llu", (unsigned long long)xoshiro256ss_next(s));
	printf("\n");
}

int main(void) {
	splitmix(0);
	splitmix(1234567);
	splitmix(UINT64_MAX);
	xoshiro(1, 2, 3, 4);
	xoshiro(0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0, 1);
	loom(0);
	loom(42);
	loom(UINT64_MAX);
	return 0;
}
