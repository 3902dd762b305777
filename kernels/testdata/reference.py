#!/usr/bin/env python3
"""Writes torch_reference.json: PyTorch/transformers outputs that the Go
tests in package kernels compare against.

Run it inside a Debian sid root with python3-torch 2.14.1 and
python3-transformers 5.12.1 (see docs on the reference root), for example:

    cp kernels/testdata/reference.py ROOT/tmp/
    chroot ROOT python3 /tmp/reference.py /tmp/torch_reference.json
    cp ROOT/tmp/torch_reference.json kernels/testdata/

Floats are stored as their uint32 bit patterns so that nothing is lost
through decimal printing.
"""
import hashlib
import json
import sys

import numpy as np
import torch
from transformers.models.llama.configuration_llama import LlamaConfig
from transformers.models.llama.modeling_llama import (
    LlamaRMSNorm,
    LlamaRotaryEmbedding,
    apply_rotary_pos_emb,
)

torch.manual_seed(1234)
torch.set_num_threads(1)


def bits(t):
    return t.detach().to(torch.float32).contiguous().numpy().view(np.uint32).ravel().tolist()


def all16(dtype):
    """float32 bits of every 16-bit pattern converted by torch, hashed."""
    raw = torch.from_numpy(np.arange(65536, dtype=np.uint16).view(np.int16))
    f = raw.view(dtype).to(torch.float32).numpy().view(np.uint32)
    return hashlib.sha256(f.astype("<u4").tobytes()).hexdigest()


def specials(n):
    x = torch.randn(n) * 4
    x[:8] = torch.tensor([0.0, -0.0, 1e-40, -1e-40, 100.0, -100.0, 88.0, -88.0])
    return x


out = {
    "torch": torch.__version__,
    "f16_sha256": all16(torch.float16),
    "bf16_sha256": all16(torch.bfloat16),
}

rms = []
for n, scale, eps in [(1, 1.0, 1e-5), (7, 3.0, 1e-6), (64, 0.01, 1e-5), (576, 1.0, 1e-5), (960, 50.0, 1e-5), (1000, 1e-3, 1e-6)]:
    x = torch.randn(n) * scale
    norm = LlamaRMSNorm(n, eps=eps)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(n))
        y = norm(x.view(1, 1, n)).view(n)
    rms.append({"eps": bits(torch.tensor(eps, dtype=torch.float32))[0], "x": bits(x), "weight": bits(norm.weight), "out": bits(y)})
out["rmsnorm"] = rms

x = torch.cat([specials(500), torch.linspace(-120, 120, 500)])
out["silu"] = {"x": bits(x), "out": bits(torch.nn.functional.silu(x))}

gate, up = specials(300), torch.randn(300)
out["swiglu"] = {"gate": bits(gate), "up": bits(up), "out": bits(torch.nn.functional.silu(gate) * up)}

soft = []
for n, scale in [(1, 1.0), (5, 1.0), (64, 10.0), (1000, 3.0), (4097, 30.0)]:
    x = torch.randn(n) * scale
    soft.append({"x": bits(x), "out": bits(torch.softmax(x, dim=-1))})
out["softmax"] = soft

rope = []
for head_dim, theta, positions in [(64, 10000.0, [0, 1, 17, 4095]), (128, 500000.0, [3, 100000, 999999])]:
    cfg = LlamaConfig(hidden_size=head_dim * 3, num_attention_heads=3, num_key_value_heads=3, head_dim=head_dim, rope_theta=theta, max_position_embeddings=1 << 20)
    emb = LlamaRotaryEmbedding(cfg)
    pos = torch.tensor([positions])
    q = torch.randn(1, 3, len(positions), head_dim)
    cos, sin = emb(q, pos)
    q_embed, _ = apply_rotary_pos_emb(q, q, cos, sin)
    half = head_dim // 2
    assert torch.equal(cos[..., :half], cos[..., half:]) and torch.equal(sin[..., :half], sin[..., half:])
    for i in range(len(positions)):
        rope.append({
            "head_dim": head_dim,
            "x": bits(q[0, :, i, :]),
            "cos": bits(cos[0, i, :half]),
            "sin": bits(sin[0, i, :half]),
            "out": bits(q_embed[0, :, i, :]),
        })
out["rope"] = rope

with open(sys.argv[1], "w") as f:
    json.dump(out, f, separators=(",", ":"))
    f.write("\n")
