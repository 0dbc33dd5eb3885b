/**
 * The differential test of the two tokenizer libraries (issue 29): for every configuration written by
 * scripts/make_token_fixtures.py (WordPiece, byte-level BPE, SentencePiece BPE, Unigram, a vocabulary-quantized
 * model's tokenizer, ...), the ids of Python `tokenizers` on every text (STS-B, a multilingual punctuation- and
 * number-heavy corpus, seeded random Unicode) equal those of the page tokenizer with and without the word caches
 * and of the tokenizer worker pool; a configuration the package cannot make exact must be refused at load.
 * Any mismatch fails and names the configuration, the path and the text. Also: vectors of a vocabulary-quantized
 * Unigram model (Precompiled, WhitespaceSplit + Metaspace, unk_id on ".") equal Python's within 1e-5.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { StaticOnnxModel, TextTokenizer } from "../src/index.js";
import { TokenizerPool } from "../src/tokenizer-pool.js";
import { FIXTURES, maxAbsDiff } from "./helpers.js";
import { WebWorker } from "./node-web-worker.js";

const DIR = join(FIXTURES, "tokens");
/** Raw library ids: no pre-cut, no truncation, unknown ids kept. */
const RAW = { max_length: null, median_token_length: 1, unk_token_id: null };

function readJson(path) {
  if (!existsSync(path)) throw new Error(`${path}: fixture missing; run \`.venv/bin/python scripts/make_token_fixtures.py\` (or scripts/test-web.sh) first`);
  return JSON.parse(readFileSync(path, "utf-8"));
}

const { texts, sources } = readJson(join(DIR, "texts.json"));
const CONFIGS = readdirSync(DIR).filter((name) => existsSync(join(DIR, name, "ids.json"))).sort();

/** Where text i comes from, for the failure message. */
function source(i) {
  let start = 0;
  for (const [name, count] of Object.entries(sources)) {
    if (i < start + count) return `${name} #${i - start}`;
    start += count;
  }
  return `#${i}`;
}

/** Compare `got(i)` with Python's ids for every text; the first mismatches, named. */
function mismatches(name, path, expected, got) {
  const bad = [];
  for (let i = 0; i < texts.length; i++) {
    const ids = Array.from(got(i));
    if (ids.length !== expected[i].length || ids.some((id, k) => id !== expected[i][k])) {
      bad.push(`${name} (${path}), ${source(i)} ${JSON.stringify(texts[i]).slice(0, 160)}: js ${JSON.stringify(ids.slice(0, 16))} python ${JSON.stringify(expected[i].slice(0, 16))}`);
    }
  }
  return bad;
}

test("the differential fixtures cover at least 12 configurations x 10,000 texts", () => {
  const exact = CONFIGS.filter((name) => !readJson(join(DIR, name, "ids.json")).refused);
  assert.ok(exact.length >= 12, `only ${exact.length} configurations in ${DIR}`);
  assert.ok(exact.length < CONFIGS.length, "no configuration the package must refuse");
  assert.ok(texts.length >= 10_000, `only ${texts.length} texts`);
  for (const kind of ["stsb", "mixed", "random"]) assert.ok(sources[kind] >= 3000, `${kind}: ${sources[kind]} texts`);
});

for (const name of CONFIGS) {
  test(`${name}: JavaScript ids equal Python tokenizers' on ${texts.length} texts`, async (t) => {
    const json = readJson(join(DIR, name, "tokenizer.json"));
    const { ids: expected, count, refused } = readJson(join(DIR, name, "ids.json"));
    assert.equal(count, texts.length, "ids.json is for another texts.json; rerun scripts/make_token_fixtures.py");
    if (refused) {
      // One line naming the reason, never tokens that silently differ (tests/token_configs.py REFUSED).
      assert.throws(() => new TextTokenizer(json, RAW), (err) => err.message.includes(refused) && !err.message.includes("\n"));
      return;
    }
    // The worker pool (its own thread) tokenizes while this thread runs the page tokenizer.
    globalThis.Worker = WebWorker;
    const pool = await TokenizerPool.create(1, json, RAW);
    delete globalThis.Worker;
    const chunks = Promise.all(pool.chunks(texts, null));
    const bad = [];
    try {
      const cached = new TextTokenizer(json, RAW);
      const plain = new TextTokenizer(json, RAW, { wordCache: false });
      assert.deepEqual(plain.speedups, []);
      assert.ok(cached.speedups.includes("model"), `${name}: word caches not in place (${cached.speedups})`);
      bad.push(...mismatches(name, "page tokenizer, word caches", expected, (i) => cached.encodeIds(texts[i])));
      bad.push(...mismatches(name, "page tokenizer, no word caches", expected, (i) => plain.encodeIds(texts[i])));
      const pooled = new Array(texts.length);
      for (const { start, ids } of await chunks) ids.forEach((row, k) => (pooled[start + k] = row));
      bad.push(...mismatches(name, "worker pool", expected, (i) => pooled[i]));
      t.diagnostic(`${name}: ${texts.length} texts x 3 paths, ${bad.length} mismatches; stages made exact: ${cached.exact.join(", ") || "none"}`);
    } finally {
      pool.terminate();
    }
    assert.deepEqual(bad.slice(0, 20), [], `${bad.length} mismatches:\n${bad.slice(0, 20).join("\n")}`);
  });
}

test("a vocabulary-quantized Unigram model (Precompiled, WhitespaceSplit + Metaspace, unk_id on '.') gives Python's vectors", async (t) => {
  const folder = join(DIR, "unigram-model");
  const gold = readJson(join(folder, "vectors.json"));
  const model = await StaticOnnxModel.load(folder);
  try {
    const vectors = await model.encode(gold.texts);
    const bad = [];
    let worst = 0;
    vectors.forEach((vector, i) => {
      const diff = maxAbsDiff(vector, gold.vectors[i]);
      worst = Math.max(worst, diff);
      if (!(diff <= 1e-5)) bad.push(`${JSON.stringify(gold.texts[i])}: max abs diff ${diff}`);
    });
    assert.deepEqual(bad, [], `${bad.length} of ${vectors.length} rows differ:\n${bad.slice(0, 10).join("\n")}`);
    t.diagnostic(`${vectors.length} STS-B test sentences, max abs diff ${worst.toExponential(2)}`);
  } finally {
    await model.dispose();
  }
});
