"""Golden training steps for engine/train, computed by transformers + torch.

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh ci/reference/train_golden.py

For each case it takes a tiny Llama-family model in float32 (the committed
testdata/models/llama-tied, or a small seeded model this script writes
under engine/train/testdata/golden/<case>/ in the Hub layout), and runs two
training steps exactly as engine/train's Trainer does them (the committed
model only the first step's loss and gradients):

    logits = model(tokens).logits            (eager attention, float32)
    loss   = F.cross_entropy(logits, targets, ignore_index=-100)   (mean)
    loss.backward()
    norm   = clip_grad_norm_(params, MAX_NORM, foreach=False)
    AdamW step: lr LR, betas BETAS, eps EPS, weight decay WD on 2-D
                parameters and 0 on norms and biases, foreach=False

It records in engine/train/testdata/golden/<case>/:

  golden.json          the model folder, the batches (tokens and targets),
                       the hyperparameters, the losses and gradient norms
  golden.safetensors   "grad<k>.<name>": every parameter's gradient at step
                       k (before clipping); "weights<k>.<name>": every
                       parameter after the AdamW step of step k

It also loads the Loom-trained checkpoint engine/train/testdata/roundtrip
(written by `loom train`, see the Go test TestTrainCommandReproducesRoundTrip
in cmd/loom) with AutoTokenizer and AutoModelForCausalLM and records the ids
of a chat prompt and transformers' float32 logits for it (roundtrip/
golden.json and logits.f32).

The Go test checks each stage from torch's own input to it, so that no
error is amplified: its gradients at the initial weights and at
"weights1" against "grad1" and "grad2", and its clipping plus AdamW, fed
torch's gradients, against "weights1" and "weights2" (a lone AdamW step is
ill-conditioned where a gradient is near eps: a 1e-6 relative gradient
error there moves the weight by a visible fraction of the learning rate).
Everything must agree within 1e-4 relative to each tensor's largest
magnitude. Torch runs
single-threaded with deterministic algorithms; the weights are seeded.
"""

import json
import os

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
    Qwen2Config,
    Qwen2ForCausalLM,
)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(REPO, "engine", "train", "testdata", "golden")

ROWS, LEN = 3, 10
LR, BETAS, EPS, WD, MAX_NORM = 1e-2, (0.9, 0.95), 1e-8, 0.1, 1.0
WEIGHT_STD, NORM_STD, BIAS_STD = 0.12, 0.1, 0.1

# Seeded small models beside the committed llama-tied: Qwen2's q/k/v
# biases; Llama with attention_bias (o bias too), an explicit head_dim that
# is not hidden/heads, a single kv head and an untied head; Mistral with a
# sliding window shorter than the sequences.
GENERATED = {
    "qwen2-bias": (Qwen2ForCausalLM, Qwen2Config(
        vocab_size=96, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False,
        bos_token_id=0, eos_token_id=1)),
    "llama-headdim-mqa-bias": (LlamaForCausalLM, LlamaConfig(
        vocab_size=80, hidden_size=32, intermediate_size=40, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=1, head_dim=12, attention_bias=True,
        max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)),
    "mistral-window": (MistralForCausalLM, MistralConfig(
        vocab_size=72, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, sliding_window=4,
        max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-5,
        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2)),
}


def hub_config(path, cfg):
    """Rewrite transformers 5's config.json into the Hub layout (top-level
    rope_theta, torch_dtype), as the committed test models have it."""
    with open(path) as f:
        c = json.load(f)
    rope = c.pop("rope_parameters", None) or {}
    if "rope_theta" in rope:
        c["rope_theta"] = rope["rope_theta"]
    if "dtype" in c:
        c["torch_dtype"] = c.pop("dtype")
    with open(path, "w") as f:
        json.dump(c, f, indent=2, sort_keys=True)
        f.write("\n")


def make_model(name, cls, cfg):
    torch.manual_seed(sum(map(ord, name)))
    model = cls(cfg).to(torch.float32)
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if pname.endswith("norm.weight"):
                p.copy_(1 + NORM_STD * torch.randn_like(p))
            elif pname.endswith(".bias"):
                p.copy_(BIAS_STD * torch.randn_like(p))
            else:
                p.copy_(WEIGHT_STD * torch.randn_like(p))
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    model.save_pretrained(folder)
    hub_config(os.path.join(folder, "config.json"), cfg)
    gen = os.path.join(folder, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    return folder


def batch(gen, vocab):
    tokens = torch.randint(0, vocab, (ROWS, LEN + 1), generator=gen)
    inputs, targets = tokens[:, :-1].clone(), tokens[:, 1:].clone()
    # A few positions without loss, as padding or prompt masks give.
    for r, c in [(0, 0), (1, 4), (1, 5), (2, LEN - 1)]:
        targets[r, c] = -100
    return inputs, targets


def run_case(name, folder, optimiser_steps):
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.train()
    vocab = model.config.vocab_size
    params = [(n, p) for n, p in model.named_parameters()]
    decay = [p for n, p in params if p.dim() == 2]
    no_decay = [p for n, p in params if p.dim() != 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0.0}],
        lr=LR, betas=BETAS, eps=EPS, foreach=False)

    gen = torch.Generator().manual_seed(sum(map(ord, name)) + 7)
    batches, losses, norms, tensors = [], [], [], {}
    for step in range(1, 3 if optimiser_steps else 2):
        inputs, targets = batch(gen, vocab)
        opt.zero_grad(set_to_none=False)
        logits = model(input_ids=inputs).logits
        loss = F.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=-100)
        loss.backward()
        tensors.update({f"grad{step}.{n}": p.grad.detach().clone().contiguous() for n, p in params})
        batches.append({"tokens": inputs.reshape(-1).tolist(), "targets": targets.reshape(-1).tolist()})
        losses.append(loss.item())
        if optimiser_steps:
            norm = torch.nn.utils.clip_grad_norm_([p for _, p in params], MAX_NORM, foreach=False)
            opt.step()
            norms.append(norm.item())
            tensors.update({f"weights{step}.{n}": p.detach().clone().contiguous() for n, p in params})

    out = os.path.join(OUT, name)
    os.makedirs(out, exist_ok=True)
    save_file(tensors, os.path.join(out, "golden.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(out, "golden.json"), "w") as f:
        json.dump({
            "model": os.path.relpath(folder, REPO),
            "rows": ROWS, "len": LEN,
            "batches": batches,
            "losses": losses,
            "grad_norms": norms,
            "lr": LR, "beta1": BETAS[0], "beta2": BETAS[1], "eps": EPS,
            "weight_decay": WD, "max_grad_norm": MAX_NORM,
        }, f, indent=1)
        f.write("\n")
    print(f"{name}: losses {losses}, grad norms {norms}")


def roundtrip():
    """What transformers makes of the Loom-trained checkpoint in
    engine/train/testdata/roundtrip: the chat prompt's ids (through
    AutoTokenizer's chat template) and the float32 logits of every
    position, [len(ids) x vocab] little-endian, in logits.f32."""
    folder = os.path.join(REPO, "engine", "train", "testdata", "roundtrip")
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    msgs = [{"role": "user", "content": "What is the beginning of wisdom?"}]
    text = tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0].contiguous()
    logits.numpy().astype("<f4").tofile(os.path.join(folder, "logits.f32"))
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump({"messages": msgs, "text": text, "ids": ids, "vocab_size": model.config.vocab_size,
                   "dtype": str(next(model.parameters()).dtype)}, f, indent=1)
        f.write("\n")
    print(f"roundtrip: {len(ids)} prompt tokens")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    # The committed model's gradients only, to keep the golden small.
    run_case("llama-tied", os.path.join(REPO, "testdata", "models", "llama-tied"), False)
    for name, (cls, cfg) in GENERATED.items():
        run_case(name, make_model(name, cls, cfg), True)
    roundtrip()


if __name__ == "__main__":
    main()
