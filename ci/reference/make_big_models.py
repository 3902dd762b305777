"""Make a SmolLM2-shaped random-weight model for determinism runs and benchmarks.

Run inside the reference root (ci/cross/big-model.sh does this and makes
/var/cache/loom/models visible there):

    ci/reference/run.sh ci/reference/make_big_models.py \
        --shape 135m --dtype bf16 --out /var/cache/loom/models/smollm2-135m-bf16

The folder gets what a Hub model holds: config.json in the Hub layout
(top-level rope_theta, torch_dtype), generation_config.json, model.safetensors
and, unless --tokenizer none, the 32000-token SentencePiece-style tokenizer
and chat template of testdata/models/tiny-chat (so the vocabulary is 32000
instead of SmolLM2's 49152; with --tokenizer none it is 49152 and the model
can only be driven by ids). The shapes are SmolLM2's:

    135m: hidden 576, 30 layers, 9 heads, 3 KV heads, intermediate 1536
    360m: hidden 960, 32 layers, 15 heads, 5 KV heads, intermediate 2560

both tied, rope_theta 100000, rms_norm_eps 1e-5. Weights are seeded
N(0, WEIGHT_STD) for matrices and embeddings and 1 + N(0, NORM_STD) for norm
weights, drawn in float32 and then cast, so a run gives the same files every
time. These models are large: they live outside the repository and are never
committed.

Besides the model the script writes reference.json: Hugging Face's greedy
continuation (float32 compute over the stored weights, eager attention) of
the tokenized chat prompt, with the smallest top-1/top-2 logit gap over its
steps. It is for information (a Loom run whose greedy ids differ on a step
with a large gap is worth a look); determinism runs compare Loom with Loom.
"""

import argparse
import json
import os
import shutil
import sys

import torch
import transformers
from transformers import AutoTokenizer, GenerationConfig, LlamaConfig, LlamaForCausalLM

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TINY_CHAT = os.path.join(REPO, "testdata", "models", "tiny-chat")

SHAPES = {
    "135m": dict(hidden_size=576, num_hidden_layers=30, num_attention_heads=9,
                 num_key_value_heads=3, intermediate_size=1536),
    "360m": dict(hidden_size=960, num_hidden_layers=32, num_attention_heads=15,
                 num_key_value_heads=5, intermediate_size=2560),
}
SMOLLM2_VOCAB = 49152
LLAMA2_VOCAB = 32000
DTYPES = {"bf16": ("bfloat16", torch.bfloat16), "f16": ("float16", torch.float16),
          "f32": ("float32", torch.float32)}

# Small enough that 30 layers keep the residual stream sane, large enough
# that random logits are not flat (HF's 0.02 gives near-uniform logits).
WEIGHT_STD = 0.05
NORM_STD = 0.1
SEED = 135
REFERENCE_TOKENS = 8
REFERENCE_MESSAGE = "Hello there, traveller. What news from the north?"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def hub_config(path, dtype_name):
    """Rewrites transformers 5's config.json into the Hub layout."""
    with open(path) as f:
        cfg = json.load(f)
    rope = cfg.pop("rope_parameters")
    cfg.pop("dtype", None)
    cfg["torch_dtype"] = dtype_name
    cfg["rope_theta"] = rope.pop("rope_theta")
    with open(path, "w") as f:
        json.dump(dict(sorted(cfg.items())), f, indent=2)
        f.write("\n")


def build(shape, vocab):
    cfg = LlamaConfig(
        vocab_size=vocab, tie_word_embeddings=True, rms_norm_eps=1e-5,
        rope_theta=100000.0, max_position_embeddings=8192, hidden_act="silu",
        bos_token_id=1, eos_token_id=2, **SHAPES[shape])
    torch.manual_seed(SEED)
    model = LlamaForCausalLM(cfg).eval()
    gen = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if "norm" in name:
                p.copy_(1.0 + noise * NORM_STD)
            else:
                p.copy_(noise * WEIGHT_STD)
    return model


@torch.no_grad()
def reference(folder, ids):
    """HF greedy ids and the smallest top-1/top-2 gap, f32 compute."""
    m = LlamaForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager").eval()
    out = m.generate(
        torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        do_sample=False, max_new_tokens=REFERENCE_TOKENS, min_new_tokens=REFERENCE_TOKENS,
        return_dict_in_generate=True, output_logits=True, pad_token_id=2)
    new = out.sequences[0, len(ids):].tolist()
    gaps = [float(torch.topk(lg[0].float(), 2).values.diff().abs()) for lg in out.logits]
    return new, min(gaps)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=sorted(SHAPES), default="135m")
    ap.add_argument("--dtype", choices=sorted(DTYPES), default="bf16")
    ap.add_argument("--tokenizer", choices=["llama2", "none"], default="llama2",
                    help="llama2: tiny-chat's tokenizer, vocab 32000; none: ids only, vocab 49152")
    ap.add_argument("--out", required=True, help="output folder (replaced)")
    args = ap.parse_args()

    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    vocab = LLAMA2_VOCAB if args.tokenizer == "llama2" else SMOLLM2_VOCAB
    dtype_name, dtype = DTYPES[args.dtype]
    model = build(args.shape, vocab)
    shutil.rmtree(args.out, ignore_errors=True)
    model.to(dtype).save_pretrained(args.out)
    hub_config(os.path.join(args.out, "config.json"), dtype_name)
    GenerationConfig(bos_token_id=1, eos_token_id=2).save_pretrained(args.out)
    log("saved", args.out)

    if args.tokenizer == "none":
        ids = [1] + list(range(100, 110))
        ref = {"prompt_ids": ids}
    else:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copyfile(os.path.join(TINY_CHAT, f), os.path.join(args.out, f))
        tok = AutoTokenizer.from_pretrained(args.out)
        messages = [{"role": "user", "content": REFERENCE_MESSAGE}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        ref = {"messages": messages, "prompt_text": text, "prompt_ids": ids}
    new, gap = reference(args.out, ids)
    ref.update({"greedy_ids": new, "min_gap": gap, "dtype": "float32",
                "weights_dtype": dtype_name})
    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(json.dumps(ref))


if __name__ == "__main__":
    main()
