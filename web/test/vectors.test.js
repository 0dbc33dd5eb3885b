/** Vectors from Node match Python's golden vectors within the float32 summation bound of tolerance.js. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { StaticOnnxModel, cosine } from "../src/index.js";
import { MODELS, fixture, golden, label, maxAbsDiff, trickyTexts } from "./helpers.js";
import { parityTolerance } from "./tolerance.js";

for (const name of MODELS) {
  test(`Node vectors match Python for ${name}`, async (t) => {
    const model = await StaticOnnxModel.load(fixture(name));
    const gold = golden(name);
    const texts = trickyTexts();
    const vectors = await model.encode(texts);
    assert.equal(vectors.length, texts.length);
    const bad = [];
    let worst = 0;
    vectors.forEach((vector, i) => {
      assert.equal(vector.length, gold.dim);
      const diff = maxAbsDiff(vector, gold.vectors[i]);
      worst = Math.max(worst, diff);
      if (!(diff <= parityTolerance(gold.vectors[i], gold.ids[i].length))) bad.push(`${label(texts[i], i)}: max abs diff ${diff}`);
    });
    assert.deepEqual(bad, [], bad.join("\n"));
    // Empty and whitespace-only texts give the zero vector, as in Python.
    assert.ok(vectors[texts.indexOf("")].every((x) => x === 0));
    // The flat matrix and small batches give the same numbers.
    const matrix = await model.encodeMatrix(texts, { batchSize: 7 });
    assert.equal(matrix.rows, texts.length);
    assert.equal(matrix.dim, gold.dim);
    gold.vectors.forEach((want, i) => {
      const row = matrix.data.subarray(i * gold.dim, (i + 1) * gold.dim);
      assert.ok(maxAbsDiff(row, want) <= parityTolerance(want, gold.ids[i].length), `matrix row ${i}`);
    });
    await model.dispose();
    t.diagnostic(`${name}: ${texts.length} texts, max abs diff ${worst.toExponential(2)}`);
  });
}

test("a single string gives one Float32Array; search ranks like cosine", async () => {
  const model = await StaticOnnxModel.load(fixture("potion-int8"));
  const gold = golden("potion-int8");
  const texts = trickyTexts();
  const one = await model.encode(texts[5]);
  assert.ok(one instanceof Float32Array);
  assert.ok(maxAbsDiff(one, gold.vectors[5]) <= parityTolerance(gold.vectors[5], gold.ids[5].length));
  const docs = ["Neural network training tutorial and guide", "Neural networks in biology", "Machine learning frameworks"];
  const hits = await model.search("How do I train a neural network?", docs, 2);
  assert.equal(hits.length, 2);
  const query = await model.encode("How do I train a neural network?");
  const scores = await Promise.all(docs.map(async (d) => cosine(query, await model.encode(d))));
  const best = scores.indexOf(Math.max(...scores));
  assert.equal(hits[0].index, best);
  assert.equal(hits[0].document, docs[best]);
  assert.ok(Math.abs(hits[0].score - scores[best]) < 1e-6);
  assert.ok(hits[0].score >= hits[1].score);
});
