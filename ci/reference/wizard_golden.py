"""Writes golden.json for a chat model folder (the Loom-trained wizard):
transformers' greedy reply to a player's line, so Loom's tests compare the
wizard with an independent implementation, not with Loom itself.

    ci/reference/run.sh ci/reference/wizard_golden.py demo_project/models/wizard

It tries the player lines below in order and keeps the first whose greedy
reply has a top-1/top-2 logit gap of at least MIN_GAP at every step (a
closer call could flip on rounding differences), stopping at EOS or after
MAX_NEW tokens. greedy_ids excludes the EOS; greedy_text is its decoding.
"""
import json
import os
import sys

import tokenizers
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

MAX_NEW = 40
MIN_GAP = 1e-3
LINES = [
    "Who are you?",
    "What is the meaning of life?",
    "Can you teach me magic?",
    "Greetings, wizard!",
    "Any advice for a young traveller?",
]

torch.manual_seed(0)
torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)


@torch.no_grad()
def main(folder):
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(
        folder, dtype=torch.float32, attn_implementation="eager").eval()
    eos = model.generation_config.eos_token_id
    eos = eos if isinstance(eos, list) else [eos]
    raw = tokenizers.Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    for line in LINES:
        messages = [{"role": "user", "content": line}]
        text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids = raw.encode(text, add_special_tokens=False).ids
        out = model.generate(
            torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
            do_sample=False, max_new_tokens=MAX_NEW, return_dict_in_generate=True,
            output_logits=True, pad_token_id=eos[0], eos_token_id=eos)
        new = out.sequences[0, len(ids):].tolist()
        gaps = []
        for lg in out.logits:
            top = torch.topk(lg[0].float(), 2)
            gaps.append(float(top.values[0] - top.values[1]))
        if new and new[-1] in eos:
            new = new[:-1]
        if new and min(gaps) >= MIN_GAP:
            break
    else:
        raise SystemExit("no player line with gap >= %g" % MIN_GAP)
    golden = {
        "messages": messages, "prompt_text": text, "prompt_ids": ids,
        "greedy_ids": new, "greedy_text": raw.decode(new, skip_special_tokens=True),
        "vocab_size": model.config.vocab_size, "dtype": "float32",
        "weights_dtype": json.load(open(os.path.join(folder, "config.json"))).get("torch_dtype"),
        "min_gap": min(gaps),
    }
    with open(os.path.join(folder, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(line, "->", golden["greedy_text"], "(min gap %.4f)" % golden["min_gap"])


main(sys.argv[1])
