"""Reference for engine/safetensors tests, run inside the reference root:

    ci/reference/run.sh engine/safetensors/testdata/reference.py

It reads every testdata/models/*/*.safetensors with the Python `safetensors`
library (framework "pt", as transformers loads them) and records, per file,
the metadata and per tensor the dtype, shape, SHA-256 of the raw bytes and
SHA-256 of the values converted to float32 by torch. It also records torch's
float32 conversion of all 65536 F16 and BF16 bit patterns (hash, NaNs
canonicalised to 0x7fc00000 because torch quiets signalling NaNs) and the
exact float32 bits of a few named patterns. Output: golden.json next to this
script.
"""

import glob
import hashlib
import json
import os

import numpy as np
import torch
from safetensors import safe_open

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def f32_bits(t):
    """float32 bits (uint32 array) of tensor t converted by torch."""
    return t.to(torch.float32).contiguous().reshape(-1).numpy().view(np.uint32)


def files():
    out = {}
    for path in sorted(glob.glob(os.path.join(REPO, "testdata/models/*/*.safetensors"))):
        rel = os.path.relpath(path, REPO)
        with safe_open(path, framework="pt") as f:
            tensors = {}
            for name in sorted(f.keys()):
                t = f.get_tensor(name).contiguous()
                tensors[name] = {
                    "dtype": DTYPES[t.dtype],
                    "shape": list(t.shape),
                    "sha256_raw": sha(t.reshape(-1).view(torch.uint8).numpy().tobytes()),
                    "sha256_f32": sha(f32_bits(t).tobytes()),
                }
            out[rel] = {"metadata": f.metadata() or {}, "tensors": tensors}
    return out


def all_patterns(dtype):
    bits = torch.from_numpy(np.arange(65536, dtype=np.uint16).view(np.int16)).view(dtype)
    f32 = f32_bits(bits).copy()
    f32[np.isnan(f32.view(np.float32))] = 0x7FC00000
    return sha(f32.astype("<u4").tobytes())


SAMPLES = [0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x0400, 0x3C00, 0xC000, 0x3555,
           0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x4248, 0x3F80, 0x7F7F, 0x0080, 0x007F]


def samples(dtype):
    t = torch.from_numpy(np.array(SAMPLES, dtype=np.uint16).view(np.int16)).view(dtype)
    return {"%04x" % h: "%08x" % b for h, b in zip(SAMPLES, f32_bits(t).tolist())}


golden = {
    "versions": {"torch": torch.__version__, "safetensors": __import__("safetensors").__version__},
    "files": files(),
    "f16_all_sha256": all_patterns(torch.float16),
    "bf16_all_sha256": all_patterns(torch.bfloat16),
    "f16_samples": samples(torch.float16),
    "bf16_samples": samples(torch.bfloat16),
}
with open(os.path.join(HERE, "golden.json"), "w") as fh:
    json.dump(golden, fh, indent=1, sort_keys=True)
    fh.write("\n")
