"""Reference for engine/tokenizer's trainer tests, run inside the reference root:

    ci/reference/run.sh engine/tokenizer/testdata/train/reference.py

The tokenizer files here were written by Loom's trainer:

    loom train-tokenizer --out . --vocab-size 600 --separator '%%' corpus.txt
    (tokenizer_config_system.json: the same with
     --system-prompt 'You are Eldric, a wise old wizard. Answer briefly.')

This script records, in golden.json, what Hugging Face makes of them:

- "encode": for every document of corpus.txt and a list of probe strings,
  tokenizers' encode(text, add_special_tokens=False and True).ids and
  decode(ids) of the Loom-trained tokenizer.json;
- "chat": transformers' apply_chat_template(tokenize=False) of a few
  conversations through both tokenizer_config files;
- "hf_merges": the merges Hugging Face's own BpeTrainer learns from the
  corpus documents that hold no special token, with the same pipeline and
  settings (vocabulary 600, min_frequency 2, the three special tokens, the
  full byte alphabet), so the Go test can compare the two trainers.
"""

import json
import os
import shutil
import tempfile

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

PROBES = [
    "", " ", "  leading spaces", "trailing   ", "\n\n\n", "a\r\nb", "123456789 3.14",
    "<|im_start|>user\nHi there!<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|><|im_end|><|endoftext|>", "<|im_start", "text<|im_end|>more",
    "control \u0000\u0007 and nbsp\u00a0and zwj\u200d", "🧙‍♂️🐉✨", "x" * 300,
    "Unseen words: quixotic zephyr, Kafkaesque; Ünïcödé ĳ ǅ", "e\u0301 vs \u00e9",
    "Wisdom is the principal thing; therefore get wisdom.",
    "def f(x):\n\treturn x**2  # square\n",
]

CONVERSATIONS = [
    ([{"role": "user", "content": "Greetings, wizard!"}], True),
    ([{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Why?"},
      {"role": "assistant", "content": "Because."}], False),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Well met."},
      {"role": "user", "content": "A riddle?"}], True),
]


def documents():
    with open(os.path.join(HERE, "corpus.txt"), encoding="utf-8") as f:
        text = f.read()
    docs, cur = [], []
    for line in text.splitlines(keepends=True):
        if line.rstrip("\r\n") == "%%":
            if cur:
                docs.append("".join(cur).removesuffix("\n"))
            cur = []
        else:
            cur.append(line)
    if cur:
        docs.append("".join(cur).removesuffix("\n"))
    return docs


def hf_merges(docs):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, min_frequency=2, special_tokens=SPECIAL,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator([d for d in docs if "<|" not in d], trainer)
    model = json.loads(tok.to_str())["model"]
    merges = [m.split(" ") if isinstance(m, str) else m for m in model["merges"]]
    vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    return {"vocab": [k for k, _ in vocab], "merges": merges}


def chat_cases():
    out = []
    for config in ["tokenizer_config.json", "tokenizer_config_system.json"]:
        with tempfile.TemporaryDirectory() as d:
            shutil.copy(os.path.join(HERE, "tokenizer.json"), d)
            shutil.copy(os.path.join(HERE, config), os.path.join(d, "tokenizer_config.json"))
            hf = AutoTokenizer.from_pretrained(d)
            for msgs, gen in CONVERSATIONS:
                out.append({"config": config, "messages": msgs, "add_generation_prompt": gen,
                            "text": hf.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)})
    return out


def main():
    tok = Tokenizer.from_file(os.path.join(HERE, "tokenizer.json"))
    docs = documents()
    encode = []
    for text in docs + PROBES:
        ids = tok.encode(text, add_special_tokens=False).ids
        encode.append({"text": text, "ids": ids,
                       "ids_special": tok.encode(text, add_special_tokens=True).ids,
                       "decoded": tok.decode(ids, skip_special_tokens=False)})
    out = {"documents": len(docs), "encode": encode, "chat": chat_cases(), "hf_trainer": hf_merges(docs)}
    with open(os.path.join(HERE, "golden.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
