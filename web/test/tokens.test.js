/** Token ids from JS == Python's TextTokenizer.encode_ids on the shared tricky corpus, for three tokenizer kinds. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { TextTokenizer, cutCodePoints } from "../src/index.js";
import { MODELS, fixture, golden, label, trickyTexts } from "./helpers.js";

const KINDS = { "potion-int8": "WordPiece", "qwen-1024-int8": "byte-level BPE", "unigram-int8": "Unigram" };
/** The per-word stages word-cache.js must find (a library update that hides them would cost speed silently). */
const CACHED = { "potion-int8": ["model"], "qwen-1024-int8": ["model", "byte-level"], "unigram-int8": ["model"] };

for (const name of MODELS) {
  test(`token ids match Python for ${name} (${KINDS[name]})`, () => {
    const folder = fixture(name);
    const config = JSON.parse(readFileSync(join(folder, "config.json"), "utf-8"));
    const tokenizer = new TextTokenizer(JSON.parse(readFileSync(join(folder, "tokenizer.json"), "utf-8")), config);
    const texts = trickyTexts();
    const expected = golden(name).ids;
    assert.equal(expected.length, texts.length, "golden file is for another corpus; regenerate the fixtures");
    assert.deepEqual(tokenizer.cachedStages, CACHED[name]);
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
