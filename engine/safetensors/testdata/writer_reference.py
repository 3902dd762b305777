"""Reference for engine/safetensors's writer test, run inside the reference root:

    ci/reference/run.sh engine/safetensors/testdata/writer_reference.py

It saves writer_reference.safetensors next to this script with the Python
`safetensors` library's torch `save` (metadata {"format": "pt"}, as
transformers' save_pretrained writes it). The file holds:

- "src": float32 values chosen to exercise rounding (ties to even for
  bfloat16 and float16, float16 subnormals and overflow, signed zeros,
  infinities, the extremes of float32) plus seeded normal values;
- "as_bf16" and "as_f16": torch's conversion of "src";
- tensors of every shape kind (scalar, empty, 3-d) and names that JSON must
  escape, in several dtypes, so that the data order and header layout of
  the reference implementation are pinned down.

The Go test rebuilds every tensor (converting "src" itself) and requires
Write to produce exactly these bytes.
"""

import os

import torch
from safetensors.torch import save

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(bits):
    return torch.tensor([bits], dtype=torch.int32).view(torch.float32).item()


def main():
    special = [
        0.0, -0.0, 1.0, -1.0, float("inf"), float("-inf"),
        # bfloat16 ties: exactly halfway between two bfloat16 values.
        f32(0x3F808000), f32(0x3F818000), f32(0x3F808001), f32(0xBF818000 - (1 << 32)),
        # float16 ties, subnormals, the smallest subnormal and half of it,
        # the largest normal and what rounds past it.
        1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11, 2.0 ** -24, 2.0 ** -25, 3 * 2.0 ** -26,
        2.0 ** -15, 2.0 ** -14 - 2.0 ** -25, 65504.0, 65519.0, 65520.0, 1e6, -1e-8,
        # float32 extremes.
        f32(0x7F7FFFFF), f32(0x00000001), f32(0x00800000), f32(0x80000001 - (1 << 32)),
    ]
    g = torch.Generator().manual_seed(12)
    rnd = (torch.randn(40, generator=g) * torch.logspace(-6, 5, 40)).tolist()
    src = torch.tensor(special + rnd, dtype=torch.float32)

    tensors = {
        "src": src,
        "as_bf16": src.to(torch.bfloat16),
        "as_f16": src.to(torch.float16),
        "model.layers.0.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 4, dtype=torch.float16),
        "cube": torch.arange(8, dtype=torch.float32).reshape(2, 2, 2).to(torch.bfloat16),
        'quote"back\\slash': torch.ones(1, dtype=torch.float32),
        "tab\tnew\nline\x01": torch.ones(1, dtype=torch.float16),
        "ünïcödé": torch.ones(2, dtype=torch.bfloat16),
    }
    with open(os.path.join(HERE, "writer_reference.safetensors"), "wb") as f:
        f.write(save(tensors, metadata={"format": "pt"}))


if __name__ == "__main__":
    main()
