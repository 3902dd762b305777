"""Reference for engine/config tests, run inside the reference root:

    ci/reference/run.sh engine/config/testdata/reference.py

Loads every testdata/models/*/config.json and engine/config/testdata/configs/*.json
with transformers' AutoConfig, and every generation config with
GenerationConfig, and writes what the transformers model code would use,
in engine/config's field names, to golden.json next to this script. For each
config it also instantiates the model and records which attention
projections carry a bias (model_qkv_bias, model_o_bias).
"""

import glob
import json
import os
import shutil
import tempfile

import torch
import transformers
from transformers import AutoConfig, AutoModelForCausalLM, GenerationConfig

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def ids(v):
    if v is None:
        return None
    return list(v) if isinstance(v, (list, tuple)) else [v]


def model_config(path):
    tmp = tempfile.mkdtemp()
    try:
        shutil.copy(path, os.path.join(tmp, "config.json"))
        c = AutoConfig.from_pretrained(tmp)
    finally:
        shutil.rmtree(tmp)
    arch = c.architectures[0]
    rope = dict(c.rope_parameters)
    rtype = rope.get("rope_type", "default")
    scaling = None
    if rtype == "linear":
        scaling = {"Type": "linear", "Factor": rope["factor"]}
    elif rtype == "llama3":
        scaling = {"Type": "llama3", "Factor": rope["factor"], "LowFreqFactor": rope["low_freq_factor"],
                   "HighFreqFactor": rope["high_freq_factor"],
                   "OriginalMaxPositionEmbeddings": rope["original_max_position_embeddings"]}
    # What the modeling code reads: Llama's attention_bias; Mistral's
    # sliding_window (all layers); Qwen2's per-layer window is off in every case.
    bias = bool(getattr(c, "attention_bias", False)) if arch == "LlamaForCausalLM" else False
    window = 0
    if arch == "MistralForCausalLM" and c.sliding_window is not None:
        window = c.sliding_window
    if arch == "Qwen2ForCausalLM":
        assert "sliding_attention" not in c.layer_types
    dtype = getattr(c, "dtype", None)
    # Which projections the instantiated model really gives a bias.
    torch.manual_seed(0)
    attn = AutoModelForCausalLM.from_config(c).model.layers[0].self_attn
    return {
        "model_qkv_bias": attn.q_proj.bias is not None,
        "model_o_bias": attn.o_proj.bias is not None,
        "Architectures": c.architectures,
        "ModelType": c.model_type,
        "VocabSize": c.vocab_size,
        "HiddenSize": c.hidden_size,
        "IntermediateSize": c.intermediate_size,
        "NumHiddenLayers": c.num_hidden_layers,
        "NumAttentionHeads": c.num_attention_heads,
        "NumKeyValueHeads": c.num_key_value_heads,
        "HeadDim": getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads,
        "MaxPositionEmbeddings": c.max_position_embeddings,
        "RMSNormEps": c.rms_norm_eps,
        "RopeTheta": rope["rope_theta"],
        "RopeScaling": scaling,
        "TieWordEmbeddings": c.tie_word_embeddings,
        "AttentionBias": bias,
        "SlidingWindow": window,
        "BOSTokenIDs": ids(c.bos_token_id),
        "EOSTokenIDs": ids(c.eos_token_id),
        "TorchDtype": "" if dtype is None else str(dtype).removeprefix("torch."),
        "HiddenAct": c.hidden_act,
    }


def generation_config(path):
    d, name = os.path.split(path)
    g = GenerationConfig.from_pretrained(d, config_file_name=name)
    diff = g.to_diff_dict()
    out = {"BOSTokenIDs": ids(g.bos_token_id), "EOSTokenIDs": ids(g.eos_token_id)}
    for key, field in [("do_sample", "DoSample"), ("temperature", "Temperature"), ("top_p", "TopP"),
                       ("top_k", "TopK"), ("repetition_penalty", "RepetitionPenalty")]:
        out[field] = diff.get(key)  # None when the file leaves it unset
    return out


def rel(p):
    return os.path.relpath(p, REPO)


paths = sorted(glob.glob(os.path.join(REPO, "testdata/models/*/config.json")))
paths += sorted(glob.glob(os.path.join(HERE, "configs/*.json")))
gen_paths = sorted(glob.glob(os.path.join(REPO, "testdata/models/*/generation_config.json")))
gen_paths += sorted(glob.glob(os.path.join(HERE, "generation/*.json")))
golden = {
    "transformers": transformers.__version__,
    "configs": {rel(p): model_config(p) for p in paths},
    "generation": {rel(p): generation_config(p) for p in gen_paths},
}
with open(os.path.join(HERE, "golden.json"), "w") as fh:
    json.dump(golden, fh, indent=1, sort_keys=True)
    fh.write("\n")
