"""Write kernels/testdata/f32_to_f16.bin: float32 values and their
binary16 conversions by numpy (astype(float16)) and PyTorch
(.to(torch.float16)), for kernels.F32ToF16's test.

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh ci/reference/f16_golden.py

The inputs cover every kind of binary16 rounding boundary, with both signs:

- every subnormal binary16 step: for each h in [0, 0x3ff], the value of h,
  the midpoint between h and h+1, and the float32 just below and just above
  that midpoint (the midpoint is exact in float32);
- the same four points for a sample of every normal binade (exponent field
  1 to 30): mantissas 0-3, 0x1fe-0x201, 0x3fc-0x3ff and 16 drawn at random,
  the last one's midpoint being the overflow threshold 65520;
- values around 2^-25 and 2^-24 (the smallest subnormal and half of it),
  float32 subnormals, the largest float32, infinities, NaNs with various
  payloads (quiet and signalling);
- 4096 float32 bit patterns drawn at random from the whole range.

numpy and PyTorch must agree on every value that is not a NaN (the script
stops otherwise). A NaN is written as PyTorch converts it: quiet, keeping
the sign and the top ten payload bits, as the F16C instruction VCVTPS2PH
does (numpy keeps a signalling NaN's bits without setting the quiet bit).

File format: one record per input, 6 bytes little-endian: the float32's
uint32 bits, then the binary16's uint16 bits.
"""

import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels", "testdata", "f32_to_f16.bin")

rng = np.random.default_rng(20261125)


def f16_value(h):
    """The float64 value of the non-negative finite binary16 pattern h."""
    return float(np.array([h], dtype=np.uint16).view(np.float16)[0])


def f32_bits(x):
    return int(np.array([x], dtype=np.float32).view(np.uint32)[0])


def around(h):
    """h's value, the midpoint to h+1 and its float32 neighbours, as bits."""
    lo = f16_value(h)
    hi = 65536.0 if h == 0x7BFF else f16_value(h + 1)
    mid = (lo + hi) / 2
    assert float(np.float32(mid)) == mid, hex(h)
    m = f32_bits(mid)
    return [f32_bits(lo), m - 1, m, m + 1]


bits = []
for h in range(0x400):
    bits += around(h)
for e in range(1, 31):
    mants = {0, 1, 2, 3, 0x1FE, 0x1FF, 0x200, 0x201, 0x3FC, 0x3FD, 0x3FE, 0x3FF}
    mants |= {int(v) for v in rng.integers(0, 0x400, 16)}
    for mant in sorted(mants):
        bits += around(e << 10 | mant)
bits += [
    0x33000000, 0x32FFFFFF, 0x33000001,  # 2^-25: a tie between 0 and 2^-24
    0x33800000, 0x337FFFFF, 0x33800001,  # 2^-24
    0x33C00000, 0x33BFFFFF, 0x33C00001,  # 1.5 * 2^-24: a tie, to 2 * 2^-24
    0x38800000, 0x387FFFFF, 0x387FF000, 0x387FE000,  # around 2^-14
    0x00000001, 0x00400000, 0x007FFFFF, 0x00800000,  # float32 subnormals
    0x477FE000, 0x477FEFFF, 0x477FF000, 0x477FF001, 0x47800000,  # 65504 .. 65536
    0x7F7FFFFF, 0x7F800000,  # largest float32, Inf
    0x7F800001, 0x7F801FFF, 0x7F802000, 0x7FA00000, 0x7FBFFFFF,  # signalling NaNs
    0x7FC00000, 0x7FC00001, 0x7FFFE000, 0x7FFFFFFF,  # quiet NaNs
]
bits += [int(v) for v in rng.integers(0, 1 << 32, 4096, dtype=np.uint64)]

pos = np.array(bits, dtype=np.uint32) & np.uint32(0x7FFFFFFF)
inputs = np.concatenate([pos, pos | np.uint32(0x80000000)])
x = inputs.view(np.float32)

with np.errstate(over="ignore", invalid="ignore"):
    by_numpy = x.astype(np.float16).view(np.uint16)
by_torch = torch.from_numpy(x.copy()).to(torch.float16).view(torch.int16).numpy().view(np.uint16)

nan = np.isnan(x)
diff = (by_numpy != by_torch) & ~nan
if diff.any():
    i = int(np.argmax(diff))
    raise SystemExit(f"numpy and torch disagree on {int(inputs[i]):#010x}: {int(by_numpy[i]):#06x} vs {int(by_torch[i]):#06x}")
out = np.where(nan, by_torch, by_numpy)

with open(OUT, "wb") as f:
    for i, o in zip(inputs.tolist(), out.tolist()):
        f.write(struct.pack("<IH", i, o))
print(f"{len(inputs)} values written to {os.path.normpath(OUT)}")
