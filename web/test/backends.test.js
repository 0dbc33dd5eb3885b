/**
 * The `{ ort }` option: onnxruntime-node (native) gives Python's vectors, like the default onnxruntime-web WASM
 * backend; a module that is not ORT is rejected with the remedy.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import * as ortNode from "onnxruntime-node";

import { StaticOnnxModel } from "../src/index.js";
import { MODELS, fixture, golden, label, maxAbsDiff, trickyTexts } from "./helpers.js";

for (const name of MODELS) {
  test(`onnxruntime-node vectors match Python for ${name}`, async (t) => {
    const model = await StaticOnnxModel.load(fixture(name), { ort: ortNode });
    assert.equal(model.info.backend, "onnxruntime-node");
    assert.equal(model.info.threads, 1);
    const gold = golden(name);
    const texts = trickyTexts();
    const vectors = await model.encode(texts);
    const bad = [];
    let worst = 0;
    vectors.forEach((vector, i) => {
      const diff = maxAbsDiff(vector, gold.vectors[i]);
      worst = Math.max(worst, diff);
      if (!(diff <= 1e-5 * Math.max(1, ...gold.vectors[i].map(Math.abs)))) bad.push(`${label(texts[i], i)}: ${diff}`);
    });
    assert.deepEqual(bad, [], bad.join("\n"));
    assert.ok(vectors.filter((v) => v.some((x) => x !== 0)).length > texts.length / 2, "non-zero vectors");
    await model.dispose();
    t.diagnostic(`${name}: ${texts.length} texts on onnxruntime-node, max abs diff ${worst.toExponential(2)}`);
  });
}

test("both backends rank the seed card's example the same way, tutorial first", async () => {
  const docs = ["Neural network training tutorial and guide", "Neural networks in biology", "Machine learning frameworks"];
  const query = "How do I train a neural network?";
  const wasm = await StaticOnnxModel.load(fixture("potion-int8"));
  const native = await StaticOnnxModel.load(fixture("potion-int8"), { ort: ortNode, threads: 2, modelFile: "model.ort" });
  assert.equal(wasm.info.backend, "m2v-edge-kernel");
  assert.equal(native.info.threads, 2);
  const [a, b] = [await wasm.search(query, docs), await native.search(query, docs)];
  assert.deepEqual(a.map((h) => h.index), [0, 1, 2]);
  assert.deepEqual(b.map((h) => h.index), [0, 1, 2]);
  a.forEach((hit, i) => assert.ok(Math.abs(hit.score - b[i].score) < 1e-6));
});

test("an ort option that is not an ONNX Runtime module is rejected", async () => {
  for (const bad of [{}, { InferenceSession: {} }, "onnxruntime-node", 42]) {
    await assert.rejects(
      StaticOnnxModel.load(fixture("potion-int8"), { ort: bad }),
      /ort must be an ONNX Runtime module \(InferenceSession and Tensor\)/,
    );
  }
  await assert.rejects(
    StaticOnnxModel.load(fixture("potion-int8"), { ort: ortNode, threads: 0 }),
    /threads must be a positive integer, got 0/,
  );
});
