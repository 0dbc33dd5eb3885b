/**
 * fast-bpe.js gives the library's BPE tokens word for word on the real Qwen tokenizer (151,387 merges): STS-B
 * words, the tricky corpus's words and random byte strings; it declines what it does not answer exactly.
 * (Python's ids: tokens.test.js and token-diff.test.js, through the tokenizer that uses it.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { Tokenizer } from "@huggingface/tokenizers";

import { BUILD_AFTER, MAX_SCAN, deferredFastBpe, fastBpe, isLean, leanByteLevel } from "../src/fast-bpe.js";
import { TextTokenizer } from "../src/index.js";
import { tokenizerIdCount } from "../src/validate.js";
import { ROOT, trickyTexts } from "./helpers.js";

const QWEN = JSON.parse(readFileSync(join(ROOT, "tests", "data", "qwen", "tokenizer.json"), "utf-8"));
const STSB = readFileSync(join(ROOT, "src", "m2v_edge", "source", "data", "stsb", "sts-train-sentences.txt"), "utf-8").split("\n");

/** A seeded generator of numbers in [0, 1). */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** The words the model sees: the texts pre-tokenized by the tokenizer itself (byte-level characters). */
function words(tokenizer, texts) {
  return texts.flatMap((text) => tokenizer.pre_tokenizer.pre_tokenize(tokenizer.normalizer ? tokenizer.normalizer.normalize(text) : text));
}

test("fast BPE equals the library's BPE on the real Qwen tokenizer", () => {
  const tokenizer = new Tokenizer(QWEN, {});
  const model = tokenizer.model;
  const merge = fastBpe(model);
  assert.ok(merge, "the Qwen tokenizer must take the fast path");
  const next = random(7);
  const byteChars = [...model.tokens_to_ids.keys()].filter((token) => token.length === 1 && token.charCodeAt(0) < 0x200);
  assert.equal(byteChars.length, 256, "the 256 byte-level characters");
  const randomWord = (longest) => Array.from({ length: 1 + Math.floor(next() * longest) }, () => byteChars[Math.floor(next() * 256)]).join("");
  // short words (scanned) and long ones (the heap), and long runs of one letter (many equal ranks)
  const randomWords = [...Array.from({ length: 20_000 }, () => randomWord(24)), ...Array.from({ length: 300 }, () => randomWord(2000))];
  randomWords.push(..."aĠ0e".split("").map((c) => c.repeat(MAX_SCAN + 77)), "ab".repeat(700));
  const cases = [...new Set([...words(tokenizer, [...STSB, ...trickyTexts()]), ...randomWords, "ĠĠĠĠĠĠĠĠ", "aaaaaaaaaaaaaaaaaaaaaaaaa"])];
  assert.ok(cases.length > 30_000, `${cases.length} words`);
  const bad = [];
  let answered = 0;
  for (const word of cases) {
    const got = merge(word);
    if (got === null) continue;
    answered += 1;
    const want = model.encode([word]);
    if (got.join("\u0000") !== want.join("\u0000")) bad.push(`${JSON.stringify(word)}: fast ${JSON.stringify(got)} library ${JSON.stringify(want)}`);
  }
  assert.deepEqual(bad.slice(0, 10), []);
  assert.equal(answered, cases.length, "every byte-level word is answered");
  assert.ok(cases.filter((word) => word.length > MAX_SCAN).length >= 250, "long words (the heap) are tested");
  assert.deepEqual(merge(""), []);
});

test("fast BPE declines models it does not answer exactly", () => {
  const variants = {
    "a subword prefix": { continuing_subword_prefix: "##" },
    "dropout": { dropout: 0.1 },
    "an end-of-word suffix": { end_of_word_suffix: "</w>" },
    "a merge whose token is not in the vocabulary": { merges: [["a", "b"]], vocab: { a: 0, b: 1 } },
  };
  for (const [what, change] of Object.entries(variants)) {
    const json = { ...QWEN, model: { ...QWEN.model, merges: QWEN.model.merges.slice(0, 50), ...change } };
    if (change.vocab) json.added_tokens = [];
    assert.equal(fastBpe(new Tokenizer(json, {}).model), null, what);
  }
  const wordPiece = JSON.parse(readFileSync(join(ROOT, "models", "potion-base-8M", "tokenizer.json"), "utf-8"));
  assert.equal(fastBpe(new Tokenizer(wordPiece, {}).model), null, "not a BPE model");
  // A character outside the vocabulary: the library decides (unknown token, byte fallback)
  const merge = fastBpe(new Tokenizer(QWEN, {}).model);
  assert.equal(merge("a\u4e00b"), null);
});

test("fast BPE on a library's maps where an added token reuses a merge token's text under another id", () => {
  const reused = QWEN.model.merges[0].join(""); // "ĠĠ", the vocabulary's token 256
  assert.equal(QWEN.model.vocab[reused], 256);
  const added = { id: 151_700, content: reused, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
  const model = new Tokenizer({ ...QWEN, added_tokens: [...QWEN.added_tokens, added] }, {}).model;
  assert.equal(model.tokens_to_ids.get(reused), 151_700, "the library's map gives the added token's id");
  const merge = fastBpe(model);
  for (const word of ["ĠĠĠĠ", "ĠĠĠĠĠĠĠĠ", "ĠĠa", "ĠĠĠ"]) assert.deepEqual(merge(word), model.encode([word]), word);
});

test("the table is built after BUILD_AFTER words, and a tokenizer using it gives the library's ids", () => {
  const model = new Tokenizer(QWEN, {}).model;
  const deferred = deferredFastBpe(model);
  for (let i = 0; i < BUILD_AFTER; i++) assert.equal(deferred(`Ġword${i}`), null, "the library answers until then");
  assert.deepEqual(deferred("Ġhello"), model.encode(["Ġhello"]));
  assert.equal(deferredFastBpe(new Tokenizer(JSON.parse(readFileSync(join(ROOT, "models", "potion-base-8M", "tokenizer.json"), "utf-8")), {}).model), null);
  const config = { max_length: 512, median_token_length: 6, unk_token_id: null, pad_token_id: 0 };
  const fast = new TextTokenizer(QWEN, config);
  const plain = new TextTokenizer(QWEN, config, { wordCache: false });
  assert.ok(fast.speedups.includes("bpe-merges"));
  const bad = STSB.filter((text) => fast.encodeIds(text).join() !== plain.encodeIds(text).join());
  assert.deepEqual(bad, []);
});

test("the lean byte-level build: the library gets no vocabulary or merges, the tokenizer the same ids", () => {
  const lean = leanByteLevel(QWEN);
  assert.ok(lean, "Qwen's tokenizer.json is byte-level BPE");
  assert.deepEqual([Object.keys(lean.json.model.vocab).length, lean.json.model.merges.length], [0, 0]);
  assert.equal(Object.keys(QWEN.model.vocab).length, 151_643, "the caller's JSON is untouched");
  const config = { max_length: 512, median_token_length: 6, unk_token_id: null, pad_token_id: 0 };
  const fast = new TextTokenizer(QWEN, config);
  const plain = new TextTokenizer(QWEN, config, { wordCache: false });
  assert.ok(isLean(fast.tokenizer.model) && !isLean(plain.tokenizer.model));
  assert.equal(fast.tokenizer.model.tokens_to_ids.size, plain.tokenizer.model.tokens_to_ids.size);
  assert.equal(fast.tokenizer.model.unk_token_id, plain.tokenizer.model.unk_token_id);
  const texts = [...STSB.slice(0, 2000), ...trickyTexts(), "<|endoftext|> and <|im_start|>", "x".repeat(3000), "🚀".repeat(500)];
  const bad = texts.filter((text) => fast.encodeIds(text, null).join() !== plain.encodeIds(text, null).join());
  assert.deepEqual(bad.map((text) => text.slice(0, 60)), []);
  // validation reads only the added tokens after the lean build, with the same answer and errors
  assert.equal(fast.vocabIds, 151_643);
  assert.equal(plain.vocabIds, null);
  assert.equal(tokenizerIdCount(QWEN, fast.vocabIds), tokenizerIdCount(QWEN));
  const badAdded = { ...QWEN, added_tokens: [...QWEN.added_tokens, { ...QWEN.added_tokens[0], id: -1 }] };
  assert.throws(() => tokenizerIdCount(badAdded, fast.vocabIds), /the id -1, not a non-negative integer/);
  // not byte-level, or anything unexpected: the library builds it as usual
  const wordPiece = JSON.parse(readFileSync(join(ROOT, "models", "potion-base-8M", "tokenizer.json"), "utf-8"));
  assert.equal(leanByteLevel(wordPiece), null);
  assert.equal(leanByteLevel({ ...QWEN, pre_tokenizer: null }), null);
  assert.equal(leanByteLevel({ ...QWEN, model: { ...QWEN.model, vocab: { ...QWEN.model.vocab, "Ġthe": -1 } } }), null);
  assert.equal(leanByteLevel({ ...QWEN, model: { ...QWEN.model, merges: [["Ġ", "zz-not-a-token"]] } }), null);
});
