"""Reference RoPE tables from Hugging Face transformers for engine/model.

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh engine/model/testdata/rope_reference.py

Writes engine/model/testdata/rope.json: for each case (a LlamaConfig's rope
settings) the float32 bits of

  inv_freq          transformers' inv_freq, scaling applied
  inv_freq_default  transformers' unscaled inv_freq for the same theta/head_dim
  inv_freq_exact    the unscaled inv_freq with theta**e correctly rounded to
                    float32 (decimal arithmetic at 60 digits), then 1/x in
                    float32: what a correctly rounded float32 pow gives.
                    torch's vectorised powf is only within 1 ulp of it.
  cos, sin          what LlamaRotaryEmbedding returns at POSITIONS (first
                    half of the head only; HF repeats it)
  cos_exact,        cos and sin of the same float32 angles inv_freq*pos
  sin_exact         (from transformers' inv_freq) correctly rounded to
                    float32 via Python's float64 math.cos/math.sin; torch's
                    vectorised float32 cos/sin are up to ~2 ulp from them
"""

import json
import math
import os
import struct
from decimal import Decimal, getcontext

import numpy as np

import torch
import transformers
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rope.json")
POSITIONS = [0, 1, 2, 7, 100, 1000, 4095, 8191, 100000]

LLAMA31 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
           "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}

# name: (rope_theta, head_dim, rope_scaling or None)
CASES = {
    "default-10000-64": (10000.0, 64, None),
    "default-10000-20": (10000.0, 20, None),
    "default-100000-16": (100000.0, 16, None),
    "qwen-1e6-128": (1000000.0, 128, None),
    "linear-10000-64-x4": (10000.0, 64, {"rope_type": "linear", "factor": 4.0}),
    "llama31-500000-128": (500000.0, 128, LLAMA31),
    "llama32-500000-64": (500000.0, 64, dict(LLAMA31, factor=32.0)),
    "tiny-llama3-500000-16": (500000.0, 16, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                             "high_freq_factor": 4.0, "original_max_position_embeddings": 256}),
}


def f32_nearest(x):
    """The float32 nearest to the Decimal x (x > 0), ties to even."""
    p = np.float32(float(x))
    cands = [np.nextafter(p, np.float32(0)), p, np.nextafter(p, np.float32(np.inf))]
    return min(cands, key=lambda c: (abs(Decimal(float(c)) - x), int(c.view(np.uint32)) & 1))


def exact_inv_freq(theta, head_dim):
    getcontext().prec = 60
    base = Decimal(float(np.float32(theta)))
    out = []
    for i in range(0, head_dim, 2):
        e = np.float32(i) / np.float32(head_dim)
        p = f32_nearest(base ** Decimal(float(e)))
        out.append(np.float32(1) / p)
    return [int(np.float32(v).view(np.uint32)) for v in out]


def bits(t):
    return [struct.unpack("<I", struct.pack("<f", float(v)))[0] for v in t.reshape(-1).tolist()]


def main():
    torch.manual_seed(0)
    out = {"transformers": transformers.__version__, "torch": torch.__version__,
           "positions": POSITIONS, "cases": {}}
    for name, (theta, head_dim, scaling) in CASES.items():
        params = {"rope_type": "default", "rope_theta": theta}
        if scaling is not None:
            params.update(scaling)
        cfg = LlamaConfig(hidden_size=head_dim * 4, num_attention_heads=4, head_dim=head_dim,
                          max_position_embeddings=131072, rope_parameters=params)
        rope = LlamaRotaryEmbedding(cfg)
        x = torch.zeros(1, 1, len(POSITIONS), head_dim, dtype=torch.float32)
        pos = torch.tensor([POSITIONS])
        cos, sin = rope(x, pos)
        default_cfg = LlamaConfig(hidden_size=head_dim * 4, num_attention_heads=4, head_dim=head_dim,
                                  max_position_embeddings=131072,
                                  rope_parameters={"rope_type": "default", "rope_theta": theta})
        default_inv = LlamaRotaryEmbedding(default_cfg).inv_freq
        half = head_dim // 2
        angles = [np.float32(f) * np.float32(p) for p in POSITIONS for f in rope.inv_freq.tolist()]
        out["cases"][name] = {
            "rope_theta": theta,
            "head_dim": head_dim,
            "rope_scaling": scaling,
            "inv_freq": bits(rope.inv_freq),
            "inv_freq_default": bits(default_inv),
            "inv_freq_exact": exact_inv_freq(theta, head_dim),
            "cos": bits(cos[0, :, :half]),
            "sin": bits(sin[0, :, :half]),
            "cos_exact": [int(np.float32(math.cos(a)).view(np.uint32)) for a in angles],
            "sin_exact": [int(np.float32(math.sin(a)).view(np.uint32)) for a in angles],
        }
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
