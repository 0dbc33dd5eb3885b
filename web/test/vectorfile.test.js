/** The `.m2vec` vector file: Node reads the files Python wrote (web/test/data, tests/vector_golden.py). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { VectorFile, modelFingerprint } from "../src/index.js";

const data = new URL("./data/", import.meta.url);
const golden = JSON.parse(readFileSync(new URL("golden.json", data), "utf8"));

for (const dtype of ["int8", "float16"]) {
  test(`Node search over Python's ${dtype} vector file equals Python's`, async () => {
    const buffer = readFileSync(new URL(`golden-${dtype}.m2vec`, data));
    const file = await VectorFile.fromBuffer(buffer, { config: golden.config });
    assert.equal(file.dtype, dtype);
    assert.equal(file.count, golden.count);
    assert.equal(file.dim, golden.dim);
    assert.equal(file.fingerprint, golden.fingerprint);
    const row3 = Array.from(file.vector(3));
    row3.forEach((v, j) => assert.ok(Math.abs(v - golden[dtype].row3[j]) < 1e-6, `row 3 dim ${j}`));
    const hits = file.search(golden.queries, golden.top_k);
    hits.forEach((row, q) => {
      const want = golden[dtype].hits[q];
      assert.deepEqual(row.map((h) => h.index), want.map((h) => h.index), `query ${q}`);
      row.forEach((h, r) => assert.ok(Math.abs(h.score - want[r].score) < 1e-5, `query ${q} rank ${r}`));
    });
  });
}

test("vector files from another model, or not vector files, are refused", async () => {
  const buffer = readFileSync(new URL("golden-int8.m2vec", data));
  assert.equal(await modelFingerprint(new TextEncoder().encode(golden.config)), golden.fingerprint);
  await assert.rejects(VectorFile.fromBuffer(buffer, { config: golden.config + " " }), /another model/);
  await assert.rejects(VectorFile.fromBuffer(buffer.subarray(0, buffer.length - 8)), /truncated/);
  await assert.rejects(VectorFile.fromBuffer(new Uint8Array(100)), /not an m2v-edge vector file/);
  const file = await VectorFile.fromBuffer(buffer);
  assert.throws(() => file.search([[1, 2, 3]]), /query 0 has 3 dims, the file 24/);
});
