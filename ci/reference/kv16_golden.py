"""Write engine/model/testdata/kv16/: what transformers computes for the
golden tiny models (testdata/models) when every attention key and value is
rounded to binary16, the reference for Loom's f16 KV cache
(model.Options.KVCache "f16").

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh ci/reference/kv16_golden.py

Each model is loaded as make_models.py loads it for its float32 goldens
(eager attention; 16-bit checkpoints upcast to float32, which is how Loom
computes with 16-bit weights), and each modelling module's
eager_attention_forward is wrapped so that the post-RoPE keys and the values
it receives (the whole cache, at every step) go through
.to(torch.float16).to(torch.float32) first: exactly one round to nearest
even per element, as Loom's cache stores them. Queries, weights and
everything else stay float32.

Written per model NAME (tiny-chat is left out: its 32000-token vocabulary
would make the logits file 2.4 MB):

  NAME.f32     raw little-endian float32 logits at every prompt position of
               golden.json's prompt_ids, [len(prompt_ids) x vocab_size]
  NAME.kv      the rounded keys and values of that prompt pass, as raw
               little-endian binary16 bits: for each layer in order, the
               keys [kv_heads x len(prompt_ids) x head_dim], then the values
               in the same shape
  golden.json  for each NAME: "greedy_ids", the 20 ids greedy generation
               appends to the prompt with rounded keys and values, and
               "min_gap", the smallest top-1/top-2 logit gap over those steps
"""

import json
import os
import sys

import numpy as np
import torch
from transformers.models.llama import modeling_llama
from transformers.models.mistral import modeling_mistral
from transformers.models.qwen2 import modeling_qwen2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models  # noqa: E402  (its load, prompt_logits and greedy)

MODELS = os.path.join(make_models.REPO, "testdata", "models")
OUT = os.path.join(make_models.REPO, "engine", "model", "testdata", "kv16")
SKIP = {"tiny-chat"}

torch.manual_seed(0)
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# While a list, the prompt pass appends each layer's rounded keys and values.
captured = None


def round_kv(original):
    def forward(module, query, key, value, *args, **kwargs):
        key16, value16 = key.to(torch.float16), value.to(torch.float16)
        if captured is not None:
            captured.append((module.layer_idx, key16[0].clone(), value16[0].clone()))
        key, value = key16.to(torch.float32), value16.to(torch.float32)
        return original(module, query, key, value, *args, **kwargs)
    return forward


for mod in (modeling_llama, modeling_mistral, modeling_qwen2):
    mod.eager_attention_forward = round_kv(mod.eager_attention_forward)


def main():
    global captured
    os.makedirs(OUT, exist_ok=True)
    golden = {}
    for name in sorted(os.listdir(MODELS)):
        folder = os.path.join(MODELS, name)
        path = os.path.join(folder, "golden.json")
        if name in SKIP or not os.path.exists(path):
            continue
        with open(path) as f:
            g = json.load(f)
        model = make_models.load(folder, torch.float32)
        ids = g["prompt_ids"]
        captured = []
        logits = make_models.prompt_logits(model, ids)
        layers, captured = captured, None
        if [l for l, _, _ in layers] != list(range(model.config.num_hidden_layers)):
            raise RuntimeError("%s: captured layers %s" % (name, [l for l, _, _ in layers]))
        make_models.write_logits(os.path.join(OUT, name + ".f32"), logits)
        with open(os.path.join(OUT, name + ".kv"), "wb") as f:
            for _, k, v in layers:
                for t in (k, v):
                    f.write(t.contiguous().numpy().view(np.uint16).astype("<u2").tobytes())
        cfg = model.generation_config
        eos = cfg.eos_token_id if isinstance(cfg.eos_token_id, list) else [cfg.eos_token_id]
        new, gap, _ = make_models.greedy(model, ids, eos)
        golden[name] = {"greedy_ids": new, "min_gap": round(gap, 6)}
        f32 = g.get("greedy_ids_upcast") or g["greedy_ids"]
        same = sum(1 for a, b in zip(new, f32) if a == b)
        print("%-20s min gap %.6f, greedy ids equal to the float32 run's at %d/20 positions" % (name, gap, same))
    lines = ["  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in golden.items()]
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


if __name__ == "__main__":
    main()
