/**
 * `model.ort` (ORT format, `m2v-edge export --target mobile`) gives the same vectors as `model.onnx` in Node:
 * within 1e-6 of each other and within 1e-5 of Python's golden vectors (from `model.onnx`).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { StaticOnnxModel } from "../src/index.js";
import { fixture, golden, label, maxAbsDiff, rehash, trickyTexts } from "./helpers.js";

const SAME_GRAPH = 1e-6;
const TO_PYTHON = 1e-5;
const POTION = fixture("potion-int8");
const made = [];
after(() => made.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

/** Per-text max abs differences between two lists of vectors. */
function diffs(a, b) {
  assert.equal(a.length, b.length);
  return a.map((vector, i) => maxAbsDiff(vector, b[i]));
}

function worstText(values, texts) {
  const worst = values.indexOf(Math.max(...values));
  return `${values[worst]} at ${label(texts[worst], worst)}`;
}

test("model.ort and model.onnx give the same vectors on the tricky corpus, both equal to Python's", async (t) => {
  const texts = trickyTexts();
  const gold = golden("potion-int8");
  const onnx = await StaticOnnxModel.load(POTION);
  const ort = await StaticOnnxModel.load(POTION, { modelFile: "model.ort" });
  assert.equal(onnx.info.modelFile, "model.onnx");
  assert.equal(ort.info.modelFile, "model.ort");
  assert.equal(ort.info.modelBytes, readFileSync(join(POTION, "model.ort")).length);
  const fromOnnx = await onnx.encode(texts);
  const fromOrt = await ort.encode(texts);
  const between = diffs(fromOnnx, fromOrt);
  const ortToPython = diffs(fromOrt, gold.vectors);
  const onnxToPython = diffs(fromOnnx, gold.vectors);
  assert.ok(Math.max(...between) <= SAME_GRAPH, `model.ort vs model.onnx: ${worstText(between, texts)}`);
  assert.ok(Math.max(...ortToPython) <= TO_PYTHON, `model.ort vs Python: ${worstText(ortToPython, texts)}`);
  assert.ok(Math.max(...onnxToPython) <= TO_PYTHON, `model.onnx vs Python: ${worstText(onnxToPython, texts)}`);
  // Not vacuous: the corpus has non-zero vectors.
  assert.ok(fromOrt.filter((v) => v.some((x) => x !== 0)).length > texts.length / 2);
  t.diagnostic(
    `${texts.length} texts: ort vs onnx ${Math.max(...between).toExponential(2)}, ort vs Python ` +
      `${Math.max(...ortToPython).toExponential(2)}, onnx vs Python ${Math.max(...onnxToPython).toExponential(2)}`,
  );
  await onnx.dispose();
  await ort.dispose();
});

test("ORT-format bytes load in the {model, tokenizer, config} form (format detected)", async () => {
  const texts = trickyTexts().slice(0, 12);
  const gold = golden("potion-int8");
  const files = {
    model: readFileSync(join(POTION, "model.ort")),
    tokenizer: readFileSync(join(POTION, "tokenizer.json")),
    config: readFileSync(join(POTION, "config.json"), "utf-8"),
  };
  const model = await StaticOnnxModel.load(files);
  assert.equal(model.info.modelFile, "model.ort");
  const vectors = await model.encode(texts);
  assert.ok(Math.max(...diffs(vectors, gold.vectors.slice(0, 12))) <= TO_PYTHON);
  const fromOnnxBytes = await StaticOnnxModel.load({ ...files, model: readFileSync(join(POTION, "model.onnx")) });
  assert.equal(fromOnnxBytes.info.modelFile, "model.onnx");
  await model.dispose();
  await fromOnnxBytes.dispose();
});

test("a bad modelFile, or a folder without model.ort, is rejected with the remedy", async () => {
  for (const bad of ["model.bin", "../model.onnx", "", 42, null]) {
    await assert.rejects(
      StaticOnnxModel.load(POTION, { modelFile: bad }),
      /modelFile must be "model\.onnx" or "model\.ort", got .*m2v-edge export --target mobile/,
      `modelFile ${JSON.stringify(bad)}`,
    );
  }
  const noOrt = mkdtempSync(join(tmpdir(), "m2v-edge-no-ort-"));
  made.push(noOrt);
  for (const name of ["model.onnx", "tokenizer.json", "config.json"]) {
    copyFileSync(join(POTION, name), join(noOrt, name));
  }
  await assert.rejects(
    StaticOnnxModel.load(noOrt, { modelFile: "model.ort" }),
    /model\.ort: no such file; export the model with `m2v-edge export --target mobile`/,
  );
  const truncated = mkdtempSync(join(tmpdir(), "m2v-edge-bad-ort-"));
  made.push(truncated);
  for (const name of ["tokenizer.json", "config.json"]) copyFileSync(join(POTION, name), join(truncated, name));
  writeFileSync(join(truncated, "model.ort"), readFileSync(join(POTION, "model.ort")).subarray(0, 4096));
  rehash(truncated); // consistent checksums: onnxruntime-web's refusal is the one tested
  await assert.rejects(
    StaticOnnxModel.load(truncated, { modelFile: "model.ort" }),
    /model\.ort: onnxruntime-web cannot load it .*re-export the model/,
  );
});
