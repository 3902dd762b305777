"""Write engine/nn/testdata/golden.json: PyTorch float32 forward outputs and
autograd gradients for every layer, softmax variant, loss and optimiser of
package nn.

Run inside the reference root, from anywhere in the repository:

    ci/reference/run.sh ci/reference/nn_golden.py

Each layer case builds the computation with plain torch modules or
functional ops (nothing shared with the Go code), fixed parameters and
inputs from torch.manual_seed, and an upstream gradient dy. It records x,
the parameters (in the order the Go layer's Params() returns them, under
the Go names), dy, y = f(x), and the gradients torch autograd computes for
x and for every parameter after y.backward(dy).

Piecewise-smooth layers (ReLU, leaky ReLU, top-k routing, sparsemax,
entmax-1.5) get inputs redrawn until every kink is at least MARGIN away,
so that the Go tests' central differences (step 1e-2) never straddle one.

The Gumbel softmax case draws its noise with Loom's PRNG (xoshiro256**
seeded by SplitMix64, the generator of engine/sample) reimplemented below,
so that torch sees exactly the noise the Go layer draws:
u = ((next() >> 40) + 0.5) / 2^24 and g = -log(-log(u)) in float64,
rounded to float32.

Floats are written as the shortest decimal that reads back as the same
float32 (numpy's float32 repr); the Go test decodes them into float32.
"""

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

MARGIN = 0.05
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "engine", "nn", "testdata", "golden.json")


def F32(v):
    """The double nearest to v's shortest float32 decimal, so that json
    writes that decimal (e.g. 0.1, not 0.10000000149011612)."""
    return float(str(np.float32(v)))


def enc(t):
    t = t.detach().to(torch.float32).contiguous()
    vals = t.view(-1).tolist()
    for v in vals:
        if not math.isfinite(v):
            raise ValueError("non-finite value in golden")
    return {"shape": list(t.shape), "data": [F32(v) for v in vals]}


def leaf(t):
    return t.detach().to(torch.float32).clone().requires_grad_(True)


def run_case(name, kind, config, x, params, fn):
    """params: list of (go_name, tensor). fn(x, *params) -> y."""
    x = leaf(x)
    ps = [(n, leaf(p)) for n, p in params]
    y = fn(x, *[p for _, p in ps])
    dy = torch.randn(y.shape)
    y.backward(dy)
    return {
        "name": name,
        "kind": kind,
        "config": config,
        "x": enc(x),
        "params": [{"name": n, "value": enc(p), "grad": enc(p.grad)} for n, p in ps],
        "dy": enc(dy),
        "y": enc(y),
        "dx": enc(x.grad),
    }


def with_margin(draw, margin_of, tries=1000):
    """Redraw with draw() until margin_of(sample) >= MARGIN."""
    for _ in range(tries):
        s = draw()
        if margin_of(s) >= MARGIN:
            return s
    raise RuntimeError("no draw with enough margin")


# ---------------------------------------------------------------- layers

ACT = {
    "linear": lambda z: z,
    "relu": F.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "softplus": lambda z: F.softplus(z, beta=1.0, threshold=20.0),
    "leaky_relu": lambda z: F.leaky_relu(z, 0.2),
}


def linear_params(inp, out):
    lin = torch.nn.Linear(inp, out)
    return lin.weight.detach().clone(), lin.bias.detach().clone()


def dense_cases():
    cases = []
    # softplus_large shifts the biases so that the pre-activations straddle
    # softplus's threshold (z > 20 returns z) and reach z << 0, where
    # log(1+exp(z)) must not lose exp(z).
    for act, scale, shift in [("linear", 1, 0), ("relu", 1, 0), ("sigmoid", 2, 0), ("tanh", 2, 0), ("softplus", 2, 0),
                              ("leaky_relu", 1, 0), ("softplus", 1, [24.0, -24.0, 20.0, 0.0])]:
        inp, out = 5, 4

        def draw():
            w, b = linear_params(inp, out)
            x = torch.randn(2, 3, inp) * scale
            return x, w, b + torch.tensor(shift)

        def margin(s):
            if act not in ("relu", "leaky_relu"):
                return math.inf
            x, w, b = s
            return (F.linear(x, w, b)).abs().min().item()

        x, w, b = with_margin(draw, margin)
        name = f"dense/{act}" + ("_large" if shift else "")
        cfg = {"in": inp, "out": out, "activation": act, "slope": 0.2}
        cases.append(run_case(name, "dense", cfg, x, [("weight", w), ("bias", b)],
                              lambda x, w, b, act=act: ACT[act](F.linear(x, w, b))))
    return cases


def conv_cases():
    cases = []
    for name, n, c, h, w, f, k, s, p, d in [
        ("conv2d/basic", 1, 1, 5, 5, 2, (3, 3), (1, 1), (0, 0), (1, 1)),
        ("conv2d/strided_padded_dilated", 2, 3, 7, 6, 4, (3, 2), (2, 1), (1, 2), (1, 2)),
        ("conv2d/stride3", 1, 2, 8, 7, 3, (2, 3), (3, 2), (2, 1), (2, 1)),
    ]:
        conv = torch.nn.Conv2d(c, f, k, stride=s, padding=p, dilation=d)
        x = torch.randn(n, c, h, w)
        cfg = {"in_channels": c, "out_channels": f, "kernel": list(k), "stride": list(s), "padding": list(p), "dilation": list(d)}
        cases.append(run_case(name, "conv2d", cfg, x,
                              [("weight", conv.weight), ("bias", conv.bias)],
                              lambda x, wt, b, s=s, p=p, d=d: F.conv2d(x, wt, b, stride=s, padding=p, dilation=d)))
    return cases


def attention(x, wq, wk, wv, wo, heads, kv, hd, causal):
    b, t, _ = x.shape
    q = F.linear(x, wq).view(b, t, heads, hd).transpose(1, 2)
    k = F.linear(x, wk).view(b, t, kv, hd).transpose(1, 2)
    v = F.linear(x, wv).view(b, t, kv, hd).transpose(1, 2)
    k = k.repeat_interleave(heads // kv, dim=1)
    v = v.repeat_interleave(heads // kv, dim=1)
    o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return F.linear(o.transpose(1, 2).reshape(b, t, heads * hd), wo)


def attention_cases():
    cases = []
    for name, b, t, dim, heads, kv, hd, causal in [
        ("attention/gqa_causal", 2, 5, 8, 4, 2, 4, True),
        ("attention/mha", 2, 4, 6, 2, 2, 3, False),
        ("attention/mqa_causal", 1, 4, 5, 3, 1, 2, True),
    ]:
        wq = torch.randn(heads * hd, dim) / math.sqrt(dim)
        wk = torch.randn(kv * hd, dim) / math.sqrt(dim)
        wv = torch.randn(kv * hd, dim) / math.sqrt(dim)
        wo = torch.randn(dim, heads * hd) / math.sqrt(heads * hd)
        x = torch.randn(b, t, dim)
        cfg = {"dim": dim, "heads": heads, "kv_heads": kv, "head_dim": hd, "causal": causal}
        cases.append(run_case(name, "attention", cfg, x, [("wq", wq), ("wk", wk), ("wv", wv), ("wo", wo)],
                              lambda x, wq, wk, wv, wo, heads=heads, kv=kv, hd=hd, causal=causal:
                              attention(x, wq, wk, wv, wo, heads, kv, hd, causal)))
    return cases


def recurrent_cases():
    cases = []
    for kind, cls in [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM)]:
        for name, b, t, inp, hid in [(f"{kind}/basic", 2, 4, 3, 5), (f"{kind}/long", 1, 9, 2, 3)]:
            mod = cls(inp, hid, batch_first=True)
            x = torch.randn(b, t, inp)
            params = [("weight_ih", mod.weight_ih_l0), ("weight_hh", mod.weight_hh_l0),
                      ("bias_ih", mod.bias_ih_l0), ("bias_hh", mod.bias_hh_l0)]

            def fn(x, wih, whh, bih, bhh, cls=cls, inp=inp, hid=hid):
                # torch.func.functional_call keeps the module's own kernel.
                m = cls(inp, hid, batch_first=True)
                out, _ = torch.func.functional_call(m, {"weight_ih_l0": wih, "weight_hh_l0": whh, "bias_ih_l0": bih, "bias_hh_l0": bhh}, (x,))
                return out

            cases.append(run_case(name, kind, {"in": inp, "hidden": hid}, x, params, fn))
    return cases


def norm_cases():
    ln_w, ln_b = torch.randn(7), torch.randn(7)
    x = torch.randn(3, 7) * 2 + 0.5
    ln = run_case("layernorm/basic", "layernorm", {"dim": 7, "eps": 1e-5}, x, [("weight", ln_w), ("bias", ln_b)],
                  lambda x, w, b: F.layer_norm(x, (7,), w, b, eps=1e-5))
    rms_w = torch.randn(6)
    x = torch.randn(2, 3, 6)
    rms = run_case("rmsnorm/basic", "rmsnorm", {"dim": 6, "eps": 1e-6}, x, [("weight", rms_w)],
                   lambda x, w: F.rms_norm(x, (6,), w, eps=1e-6))
    return [ln, rms]


def swiglu_cases():
    d, h = 6, 10
    wg = torch.randn(h, d) / math.sqrt(d)
    wu = torch.randn(h, d) / math.sqrt(d)
    wd = torch.randn(d, h) / math.sqrt(h)
    x = torch.randn(2, 3, d)
    return [run_case("swiglu/basic", "swiglu", {"dim": d, "hidden": h}, x, [("w_gate", wg), ("w_up", wu), ("w_down", wd)],
                     lambda x, wg, wu, wd: F.linear(F.silu(F.linear(x, wg)) * F.linear(x, wu), wd))]


# ---------------------------------------------------------------- softmax variants

MASK64 = (1 << 64) - 1


class LoomRNG:
    """engine/sample.RNG: xoshiro256** 1.0 seeded with four SplitMix64 outputs."""

    def __init__(self, seed):
        x = seed
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & MASK64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & MASK64

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 45)
        return result


def gumbel_noise(seed, shape):
    r = LoomRNG(seed)
    n = int(np.prod(shape))
    g = []
    for _ in range(n):
        u = ((r.next() >> 40) + 0.5) / (1 << 24)
        g.append(-math.log(-math.log(u)))
    return torch.tensor(g, dtype=torch.float32).view(shape)


def sparsemax(z):
    n = z.shape[-1]
    zs, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, n + 1, dtype=z.dtype)
    cs = zs.cumsum(-1)
    kz = ((1 + k * zs) > cs).sum(-1, keepdim=True)
    tau = (cs.gather(-1, kz - 1) - 1) / kz.to(z.dtype)
    return torch.clamp(z - tau, min=0), tau


def entmax15(x):
    # Peters, Niculae and Martins (2019), exact sort-based threshold, as in
    # the authors' entmax package (Entmax15Function / _entmax_threshold_and_support).
    z = x / 2
    z = z - z.max(dim=-1, keepdim=True).values
    n = z.shape[-1]
    zs, _ = torch.sort(z, dim=-1, descending=True)
    rho = torch.arange(1, n + 1, dtype=z.dtype)
    mean = zs.cumsum(-1) / rho
    mean_sq = (zs ** 2).cumsum(-1) / rho
    ss = rho * (mean_sq - mean ** 2)
    delta = (1 - ss) / rho
    tau = mean - torch.sqrt(torch.clamp(delta, min=0))
    support = (tau <= zs).sum(dim=-1, keepdim=True)
    tau_star = tau.gather(-1, support - 1)
    return torch.clamp(z - tau_star, min=0) ** 2, z, tau_star


def kink_margin_sparse(z, tau):
    return (z - tau).abs().min().item()


def softmax_cases():
    cases = []
    x = torch.randn(2, 3, 8) * 2
    cases.append(run_case("softmax/standard", "softmax", {}, x, [], lambda x: torch.softmax(x, -1)))

    x = torch.randn(3, 8) * 2
    cases.append(run_case("softmax/temperature", "softmax_temperature", {"temperature": 0.7}, x, [],
                          lambda x: torch.softmax(x / 0.7, -1)))

    mask = [True, False, True, True, False, True, True, True]
    x = torch.randn(3, 8) * 2
    cases.append(run_case("softmax/masked", "softmax_masked", {"mask": mask}, x, [],
                          lambda x: x.masked_fill(~torch.tensor(mask), float("-inf")).softmax(-1)))

    k = 2

    def topk_margin(x):
        v = torch.sort(x, dim=-1, descending=True).values
        return (v[..., k - 1] - v[..., k]).min().item()

    x = with_margin(lambda: torch.randn(4, 6) * 2, topk_margin)

    def topk(x):
        vals, idx = torch.topk(x, k, dim=-1)
        return torch.zeros_like(x).scatter(-1, idx, torch.softmax(vals, -1))

    cases.append(run_case("softmax/topk_routing", "softmax_topk", {"k": k}, x, [], topk))

    g, s = 3, 4
    x = torch.randn(2, g + g * s) * 2

    def hier(x):
        pg = torch.softmax(x[..., :g], -1)
        pc = torch.softmax(x[..., g:].reshape(*x.shape[:-1], g, s), -1)
        return (pg.unsqueeze(-1) * pc).reshape(*x.shape[:-1], g * s)

    cases.append(run_case("softmax/hierarchical", "softmax_hierarchical", {"groups": g, "group_size": s}, x, [], hier))

    tau, seed = 0.5, 42
    x = torch.randn(3, 6)
    noise = gumbel_noise(seed, (3, 6))
    cases.append(run_case("softmax/gumbel", "softmax_gumbel", {"tau": tau, "seed": seed}, x, [],
                          lambda x: torch.softmax((x + noise) / tau, -1)))

    x = with_margin(lambda: torch.randn(4, 7) * 1.5, lambda x: kink_margin_sparse(x, sparsemax(x)[1]))
    cases.append(run_case("softmax/sparsemax", "sparsemax", {}, x, [], lambda x: sparsemax(x)[0]))

    def entmax_margin(x):
        _, z, tau = entmax15(x)
        return kink_margin_sparse(z, tau) * 2  # a step h in x moves z by h/2

    x = with_margin(lambda: torch.randn(4, 7) * 2, entmax_margin)
    cases.append(run_case("softmax/entmax15", "entmax15", {}, x, [], lambda x: entmax15(x)[0]))

    x = torch.randn(3, 6) * 2
    cases.append(run_case("softmax/adaptive_temperature", "softmax_adaptive", {}, x, [("log_temp", torch.tensor([0.3]))],
                          lambda x, th: torch.softmax(x * torch.exp(-th), -1)))

    kc, v = 3, 5
    x = torch.randn(2, kc + kc * v) * 2

    def mos(x):
        pi = torch.softmax(x[..., :kc], -1)
        pc = torch.softmax(x[..., kc:].reshape(*x.shape[:-1], kc, v), -1)
        return (pi.unsqueeze(-1) * pc).sum(-2)

    cases.append(run_case("softmax/mixture", "softmax_mixture", {"components": kc, "classes": v}, x, [], mos))
    return cases


def composite_cases():
    w, b = linear_params(6, 6)
    x = torch.randn(4, 6)
    res = run_case("residual/dense_tanh", "residual",
                   {"inner": [{"kind": "dense", "config": {"in": 6, "out": 6, "activation": "tanh"}}]},
                   x, [("weight", w), ("bias", b)], lambda x, w, b: x + torch.tanh(F.linear(x, w, b)))

    def draw():
        w1, b1 = linear_params(5, 8)
        w2, b2 = linear_params(8, 3)
        return torch.randn(4, 5), w1, b1, torch.randn(8), torch.randn(8), w2, b2

    x, w1, b1, lw, lb, w2, b2 = with_margin(draw, lambda s: F.linear(s[0], s[1], s[2]).abs().min().item())
    seq = run_case("sequential/dense_layernorm_dense", "sequential",
                   {"inner": [
                       {"kind": "dense", "config": {"in": 5, "out": 8, "activation": "relu"}},
                       {"kind": "layernorm", "config": {"dim": 8, "eps": 1e-5}},
                       {"kind": "dense", "config": {"in": 8, "out": 3, "activation": "linear"}},
                   ]},
                   x, [("weight", w1), ("bias", b1), ("weight", lw), ("bias", lb), ("weight", w2), ("bias", b2)],
                   lambda x, w1, b1, lw, lb, w2, b2:
                   F.linear(F.layer_norm(F.relu(F.linear(x, w1, b1)), (8,), lw, lb, eps=1e-5), w2, b2))
    return [res, seq]


# ---------------------------------------------------------------- losses

def loss_cases():
    cases = []
    for name, n, c, targets, ignore in [
        ("cross_entropy/ignore_default", 4, 5, [1, -100, 3, 0], -100),
        ("cross_entropy/ignore_2", 6, 4, [2, 0, 2, 3, 1, 2], 2),
        ("cross_entropy/none_ignored", 3, 7, [6, 0, 3], -100),
    ]:
        logits = leaf(torch.randn(n, c) * 3)
        loss = F.cross_entropy(logits, torch.tensor(targets), ignore_index=ignore, reduction="mean")
        loss.backward()
        cases.append({"name": name, "kind": "cross_entropy", "input": enc(logits), "targets": targets,
                      "ignore_index": ignore, "loss": F32(loss.item()), "grad": enc(logits.grad)})
    pred, target = leaf(torch.randn(3, 4)), torch.randn(3, 4)
    loss = F.mse_loss(pred, target)
    loss.backward()
    cases.append({"name": "mse/basic", "kind": "mse", "input": enc(pred), "target": enc(target),
                  "loss": F32(loss.item()), "grad": enc(pred.grad)})
    return cases


# ---------------------------------------------------------------- optimisers

def optim_cases():
    cases = []
    steps = 5
    for name, kind, cfg in [
        ("sgd/plain", "sgd", {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}),
        ("sgd/momentum", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False}),
        ("sgd/dampening", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.0, "nesterov": False}),
        ("sgd/nesterov_weight_decay", "sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.0, "weight_decay": 0.01, "nesterov": True}),
        ("adamw/default", "adamw", {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}),
        ("adamw/low_beta1", "adamw", {"lr": 3e-3, "beta1": 0.3, "beta2": 0.9, "eps": 1e-6, "weight_decay": 0.1}),
    ]:
        p = [torch.randn(3, 4).requires_grad_(True), torch.randn(5).requires_grad_(True)]
        init = [enc(t) for t in p]
        if kind == "sgd":
            opt = torch.optim.SGD(p, lr=cfg["lr"], momentum=cfg["momentum"], dampening=cfg["dampening"],
                                  weight_decay=cfg["weight_decay"], nesterov=cfg["nesterov"], foreach=False)
        else:
            opt = torch.optim.AdamW(p, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"],
                                    weight_decay=cfg["weight_decay"], foreach=False)
        grads, after = [], []
        for _ in range(steps):
            g = [torch.randn(t.shape) for t in p]
            for t, gi in zip(p, g):
                t.grad = gi.clone()
            opt.step()
            grads.append([enc(gi) for gi in g])
            after.append([enc(t) for t in p])
        cases.append({"name": name, "kind": kind, "config": cfg, "init": init, "grads": grads, "after": after})
    return cases


def clip_cases():
    cases = []
    for name, max_norm in [("clip/clipped", 1.0), ("clip/unclipped", 100.0)]:
        p = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
        g = [torch.randn(3, 4) * 2, torch.randn(5)]
        for t, gi in zip(p, g):
            t.grad = gi.clone()
        total = torch.nn.utils.clip_grad_norm_(p, max_norm, norm_type=2.0, foreach=False)
        cases.append({"name": name, "max_norm": max_norm, "grads": [enc(t) for t in g],
                      "total_norm": F32(total.item()), "clipped": [enc(t.grad) for t in p]})
    return cases


def main():
    torch.manual_seed(20261125)
    out = {"torch": torch.__version__}
    out["layers"] = (dense_cases() + conv_cases() + attention_cases() + recurrent_cases() + norm_cases()
                     + swiglu_cases() + softmax_cases() + composite_cases())
    out["losses"] = loss_cases()
    out["optimizers"] = optim_cases()
    out["clip"] = clip_cases()
    text = json.dumps(out, indent=None, separators=(",", ":"))
    with open(sys.argv[1] if len(sys.argv) > 1 else OUT, "w") as f:
        f.write(text + "\n")
    print(f"wrote {len(out['layers'])} layer cases, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
