/** Token ids from JS == Python's TextTokenizer.encode_ids on the shared tricky corpus, for three tokenizer kinds. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { TextTokenizer, cutCodePoints } from "../src/index.js";
import { MODELS, fixture, golden, label, trickyTexts } from "./helpers.js";

const KINDS = { "potion-int8": "WordPiece", "qwen-1024-int8": "byte-level BPE", "unigram-int8": "Unigram" };
/** The stages word-cache.js must find and speed up (a library update that hides them would cost speed silently). */
const SPEEDUPS = {
  "potion-int8": ["model", "pre-tokenize", "bert-normalizer", "added-tokens"],
  "qwen-1024-int8": ["model", "bpe-merges", "byte-level", "pre-tokenize", "added-tokens"],
  "unigram-int8": ["model", "pre-tokenize", "added-tokens"],
};

/** A fixture's parsed tokenizer.json and config.json. */
function readFixture(name) {
  const folder = fixture(name);
  const read = (file) => JSON.parse(readFileSync(join(folder, file), "utf-8"));
  return { json: read("tokenizer.json"), config: read("config.json") };
}

for (const name of MODELS) {
  test(`token ids match Python for ${name} (${KINDS[name]})`, () => {
    const { json, config } = readFixture(name);
    const tokenizer = new TextTokenizer(json, config);
    const texts = trickyTexts();
    const expected = golden(name).ids;
    assert.equal(expected.length, texts.length, "golden file is for another corpus; regenerate the fixtures");
    assert.deepEqual(tokenizer.speedups, SPEEDUPS[name]);
    const mismatches = [];
    for (const pass of ["first pass", "second pass (word caches full)"]) {
      texts.forEach((text, i) => {
        const got = tokenizer.encodeIds(text);
        try {
          assert.deepEqual(got, expected[i]);
        } catch {
          mismatches.push(`${pass}, ${label(text, i)}: js ${JSON.stringify(got.slice(0, 12))} py ${JSON.stringify(expected[i].slice(0, 12))}`);
        }
      });
    }
    assert.deepEqual(mismatches, [], mismatches.join("\n"));
    // The corpus must exercise truncation: some text reaches max_length tokens.
    assert.ok(expected.some((ids) => ids.length === config.max_length), "no text reaches max_length tokens");
  });
}

test("the pre-cut counts code points, not UTF-16 units", () => {
  assert.equal(cutCodePoints("🚀🚀🚀", 2), "🚀🚀");
  assert.equal(cutCodePoints("a🚀b", 2), "a🚀");
  assert.equal(cutCodePoints("abc", 5), "abc");
  assert.equal(cutCodePoints("", 3), "");
  const text = "é👍🏽".repeat(50);
  assert.equal(cutCodePoints(text, 31), Array.from(text).slice(0, 31).join(""));
});

/** A seeded generator of numbers in [0, 1). */
function random(seed) {
  let state = seed;
  return () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Seeded texts of printable ASCII (the normalizer's shortcut), sometimes with one tab, newline, control or accent. */
function asciiTexts(count, seed) {
  const next = random(seed);
  const extra = ["\t", "\n", "\r", "\u0007", "\u007f", "\u00ad", "é", "Ａ", "中"];
  return Array.from({ length: count }, () => {
    const chars = Array.from({ length: Math.floor(next() * 40) }, () => String.fromCharCode(0x20 + Math.floor(next() * 95)));
    if (next() < 0.3) chars.splice(Math.floor(next() * (chars.length + 1)), 0, extra[Math.floor(next() * extra.length)]);
    return chars.join("");
  });
}

/** Seeded texts mixing words, punctuation, spaces, newlines, non-Latin letters and the pieces of added tokens. */
function mixedTexts(count, seed) {
  const parts = ["the", " cat", "Hello", "ünïcödé", "日本語", "слово", "٣", "42", " ", "  ", "\n", "\t", ".", ",", "'s", "'LL",
    "<", ">", "|", "<|", "|>", "<|endoftext|>", "<|im_start|>", "<s>", "</s>", "<unk>", "[", "]", "[CLS]", "[SEP]", "[MA",
    "##", "e\u0301", "🚀", "a<b", "x[y"];
  const next = random(seed);
  return Array.from({ length: count }, () => Array.from({ length: Math.floor(next() * 12) }, () => parts[Math.floor(next() * parts.length)]).join(""));
}

for (const name of MODELS) {
  test(`the sped-up tokenizer gives the ids of the one without speed-ups for ${name}`, () => {
    const { json, config } = readFixture(name);
    const ours = new TextTokenizer(json, { ...config, max_length: null });
    const plain = new TextTokenizer(json, { ...config, max_length: null }, { wordCache: false });
    assert.deepEqual(plain.speedups, []);
    const texts = [...mixedTexts(3000, 7), ...asciiTexts(3000, 11)];
    for (const pass of [1, 2]) {
      texts.forEach((text, i) => {
        const want = plain.encodeIds(text);
        assert.deepEqual(ours.encodeIds(text), want, `pass ${pass}, text ${i}: ${JSON.stringify(text)}`);
      });
    }
  });
}

test("byte-level pieces of printable ASCII skip the bytes (word-cache.js): the library's characters, piece by piece", () => {
  const { json, config } = readFixture("qwen-1024-int8");
  const every = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
  const pieces = ["", " ", "  the", " cat", "Hello", "a\tb", "x\ny", "\u007f", "é", " ünï", "🚀", ...every, ...asciiTexts(2000, 3)];
  for (const prefix of [false, true]) {
    // Qwen's ByteLevel step has add_prefix_space false; the other setting on a copy of the file
    const steps = structuredClone(json.pre_tokenizer.pretokenizers);
    const step = steps.find((p) => p.type === "ByteLevel");
    assert.ok(step && step.use_regex === false, "Qwen's pre-tokenizer holds a ByteLevel step that gets one piece at a time");
    step.add_prefix_space = prefix;
    const file = { ...json, pre_tokenizer: { ...json.pre_tokenizer, pretokenizers: steps } };
    const [ours, plain] = [{}, { wordCache: false }].map((options) => {
      const pre = new TextTokenizer(file, config, options).tokenizer.pre_tokenizer;
      return pre.tokenizers.find((p) => p.byte_encoder);
    });
    for (const piece of pieces) assert.deepEqual(ours.pre_tokenize_text(piece), plain.pre_tokenize_text(piece), `${prefix}: ${JSON.stringify(piece)}`);
  }
});
