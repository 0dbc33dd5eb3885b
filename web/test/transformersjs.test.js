/**
 * Interop: transformers.js (@huggingface/transformers 4.x, offline) loads a Hugging Face-layout export with no
 * options and gives m2v-edge's vectors, unknown tokens included; our runtime reads that layout and the format-1
 * one (tests/data/v1-wordpiece/export). A `pipeline_output` export (`m2v-edge export --pipeline-output`) also
 * serves `pipeline("feature-extraction", dir, {pooling: "mean", normalize: true})`.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { AutoModel, AutoTokenizer, env, pipeline } from "@huggingface/transformers";

import { startServer } from "../demo/server.mjs";
import { modelFilePath } from "../src/config.js";
import { StaticOnnxModel } from "../src/index.js";
import { launchChromium, openPage } from "./chromium.js";
import { FIXTURES, ROOT, WEB, label, maxAbsDiff, trickyTexts } from "./helpers.js";

const TOLERANCE = 1e-5; // m2v-edge's JS runtime (kernel arithmetic) vs Python
const TJS_TOLERANCE = 1e-6; // transformers.js (onnxruntime-web on the same graph) vs Python
const PIPELINE_MODELS = ["potion-pipeline-hf", "wordpiece-pipeline-hf"];
const HF_MODELS = ["potion-hf", "wordpiece-hf", "wordpiece-fp16-hf", ...PIPELINE_MODELS];

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = FIXTURES;

function hfFixture(name) {
  const folder = join(FIXTURES, name);
  if (!existsSync(join(folder, "config.json")) || !existsSync(join(folder, modelFilePath(readConfig(folder))))) {
    throw new Error(`${folder}: fixture missing; run \`.venv/bin/python scripts/make_web_fixtures.py\` first`);
  }
  return folder;
}

/** Python's golden vectors (scripts/make_web_fixtures.py) for a fixture in either layout. */
function golden(name) {
  return JSON.parse(readFileSync(join(FIXTURES, "golden", `${name}.json`), "utf-8"));
}

function readConfig(folder) {
  return JSON.parse(readFileSync(join(folder, "config.json"), "utf-8"));
}

/** Texts transformers.js sees whole: model2vec first cuts a text to max_length × median token length characters. */
function uncut(texts, config) {
  const limit = config.max_length * config.median_token_length;
  return texts.map((text, i) => [text, i]).filter(([text]) => Array.from(text).length <= limit);
}

for (const name of HF_MODELS) {
  test(`transformers.js loads ${name} with no options and gives our vectors`, async (t) => {
    const folder = hfFixture(name);
    const config = readConfig(folder);
    const gold = golden(name);
    const cases = uncut(trickyTexts(), config);
    const texts = cases.map(([text]) => text);
    const tokenizer = await AutoTokenizer.from_pretrained(name);
    const model = await AutoModel.from_pretrained(name);
    const inputs = tokenizer(texts, { padding: true, truncation: true });
    const ids = inputs.input_ids.tolist().flat().map(Number);
    const unknown = ids.filter((id) => id === config.unk_token_id).length;
    assert.ok(unknown >= 3, `the texts must hold unknown tokens (found ${unknown})`);
    const { embeddings } = await model(inputs);
    assert.deepEqual(embeddings.dims, [texts.length, gold.dim]);
    const bad = [];
    let worst = 0;
    cases.forEach(([text, i], row) => {
      const vector = embeddings.data.subarray(row * gold.dim, (row + 1) * gold.dim);
      const diff = maxAbsDiff(vector, gold.vectors[i]);
      worst = Math.max(worst, diff);
      if (!(diff <= TJS_TOLERANCE)) bad.push(`${label(text, i)}: max abs diff ${diff}`);
    });
    assert.deepEqual(bad, [], bad.join("\n"));
    await model.dispose();
    t.diagnostic(`${name}: ${texts.length} texts (${unknown} unknown tokens), max abs diff ${worst.toExponential(2)}`);
  });

  test(`m2v-edge's JS runtime reads the Hugging Face layout (${name})`, async () => {
    const folder = hfFixture(name);
    const config = readConfig(folder);
    const graph = { int8: "onnx/model_quantized.onnx", float16: "onnx/model_fp16.onnx" }[config.dtype];
    assert.equal(modelFilePath(config), graph);
    assert.equal(config["transformers.js_config"].dtype, { int8: "q8", float16: "fp16" }[config.dtype]);
    const model = await StaticOnnxModel.load(folder);
    const gold = golden(name);
    const vectors = await model.encode(trickyTexts());
    assert.equal(model.info.modelBytes, readFileSync(join(folder, graph)).length);
    assert.ok(maxAbsDiff(vectors.flat().flatMap((v) => Array.from(v)), gold.vectors.flat()) <= TOLERANCE);
    await model.dispose();
  });
}

/** Each text's row of a [texts, dim] tensor. */
const rowsOf = (tensor, dim) => Array.from({ length: tensor.dims[0] }, (_, r) => tensor.data.subarray(r * dim, (r + 1) * dim));

/** The warnings transformers.js logs while `body` runs. */
async function warningsOf(body) {
  const seen = [];
  const warn = console.warn;
  console.warn = (...args) => seen.push(args.join(" "));
  try {
    await body();
  } finally {
    console.warn = warn;
  }
  return seen;
}

for (const name of PIPELINE_MODELS) {
  test(`transformers.js's feature-extraction pipeline gives our vectors on a pipeline_output export (${name})`, async (t) => {
    const folder = hfFixture(name);
    const config = readConfig(folder);
    assert.equal(config.pipeline_output, true);
    const gold = golden(name);
    const cases = uncut(trickyTexts(), config);
    const texts = cases.map(([text]) => text);
    let extractor;
    const warnings = await warningsOf(async () => {
      extractor = await pipeline("feature-extraction", name);
    });
    // config.json's architectures silences "Architecture(s) not found"; only a known model_type would silence this:
    assert.deepEqual(warnings, ['Unknown model class "m2v-edge-static-embedding", attempting to construct from base class.']);
    const normalized = rowsOf(await extractor(texts, { pooling: "mean", normalize: true }), gold.dim);
    const raw = rowsOf(await extractor(texts, { pooling: "mean" }), gold.dim);
    const bad = [];
    let [worst, zero] = [0, 0];
    cases.forEach(([text, i], row) => {
      const want = gold.vectors[i];
      const norm = Math.hypot(...want);
      if (norm === 0) {
        // no token but the appended unknown one: mean pooling gives 0; transformers.js's normalize divides 0 by 0
        zero += 1;
        if (raw[row].some((x) => x !== 0)) bad.push(`${label(text, i)}: {pooling: "mean"} is not the zero vector`);
        if (!normalized[row].every(Number.isNaN)) bad.push(`${label(text, i)}: normalize: true no longer gives NaN (update docs/web.md)`);
        return;
      }
      const scaled = config.normalize ? want : want.map((x) => x / norm);
      const diff = Math.max(maxAbsDiff(normalized[row], scaled), maxAbsDiff(raw[row], want));
      worst = Math.max(worst, diff);
      if (!(diff <= TJS_TOLERANCE)) bad.push(`${label(text, i)}: max abs diff ${diff}`);
    });
    assert.deepEqual(bad, [], bad.join("\n"));
    assert.ok(zero >= 3, `the corpus must hold zero-token texts (found ${zero})`);
    const empty = rowsOf(await extractor(["", " ", "\n"], { pooling: "mean" }), gold.dim);
    assert.ok(empty.every((row) => row.every((x) => x === 0)), "empty and blank texts give the zero vector");
    await extractor.dispose();
    t.diagnostic(`${name}: ${texts.length} texts (${zero} with no token), pipeline vs Python max abs diff ${worst.toExponential(2)}`);
  });
}

/** Python's vectors for the pipeline's options: `normalize` rescales to unit norm; a zero-token text is 0 / NaN. */
function pipelineWants(gold, cases, config) {
  return cases.map(([, i]) => {
    const want = gold.vectors[i];
    const norm = Math.hypot(...want);
    return { raw: want, normalized: norm === 0 ? null : config.normalize ? want : want.map((x) => x / norm) };
  });
}

test("transformers.js's pipeline and AutoModel in Chromium (WASM, offline) give Python's vectors (wordpiece-pipeline-hf)", async (t) => {
  const name = "wordpiece-pipeline-hf";
  const folder = hfFixture(name);
  const config = readConfig(folder);
  const cases = uncut(trickyTexts(), config);
  const texts = cases.map(([text]) => text);
  const tjs = join(WEB, "node_modules", "@huggingface", "transformers");
  const mounts = { "/tjs/": join(tjs, "dist"), "/tjs-ort/": join(tjs, "node_modules", "onnxruntime-web", "dist") };
  const server = await startServer({ modelDir: folder, isolated: false, mounts });
  const browser = await launchChromium();
  try {
    const page = await openPage(browser.context, `${server.url}model/config.json`);
    const got = await page.evaluate(async (inputs) => {
      const { AutoModel, AutoTokenizer, env, pipeline } = await import("/tjs/transformers.min.js");
      Object.assign(env, { allowRemoteModels: false, allowLocalModels: true, localModelPath: "/", useBrowserCache: false });
      env.backends.onnx.wasm.wasmPaths = "/tjs-ort/";
      const extractor = await pipeline("feature-extraction", "model", { device: "wasm" });
      const rows = (tensor) => Array.from({ length: tensor.dims[0] }, (_, r) => Array.from(tensor.data.subarray(r * tensor.dims[1], (r + 1) * tensor.dims[1])));
      const normalized = rows(await extractor(inputs, { pooling: "mean", normalize: true }));
      const raw = rows(await extractor(inputs, { pooling: "mean" }));
      const tokenizer = await AutoTokenizer.from_pretrained("model");
      const model = await AutoModel.from_pretrained("model", { device: "wasm" });
      const auto = rows((await model(tokenizer(inputs, { padding: true, truncation: true }))).embeddings);
      return { normalized, raw, auto };
    }, texts);
    assert.deepEqual(page.problems, []);
    const gold = golden(name);
    const bad = [];
    let worst = 0;
    pipelineWants(gold, cases, config).forEach((want, row) => {
      const where = label(texts[row], cases[row][1]);
      const diffs = [maxAbsDiff(got.raw[row], want.raw), maxAbsDiff(got.auto[row], want.raw)];
      if (want.normalized === null) {
        // page.evaluate carries NaN over as NaN
        if (!got.normalized[row].every(Number.isNaN)) bad.push(`${where}: normalize: true no longer gives NaN`);
      } else diffs.push(maxAbsDiff(got.normalized[row], want.normalized));
      worst = Math.max(worst, ...diffs);
      if (!diffs.every((d) => d <= TJS_TOLERANCE)) bad.push(`${where}: max abs diff ${Math.max(...diffs)}`);
    });
    assert.deepEqual(bad, [], bad.join("\n"));
    t.diagnostic(`Chromium ${name}: ${texts.length} texts, pipeline and AutoModel vs Python max abs diff ${worst.toExponential(2)}`);
  } finally {
    await browser.close();
    await server.close();
  }
});

test("the default export has no last_hidden_state: the pipeline fails as documented (docs/web.md)", async () => {
  const extractor = await pipeline("feature-extraction", "wordpiece-hf");
  await assert.rejects(extractor(["hello"], { pooling: "mean" }), /Cannot read properties of undefined/);
  await extractor.dispose();
});

test("m2v-edge's JS runtime still reads a format-1 export (model.onnx at the top, unknown tokens kept)", async () => {
  const folder = join(ROOT, "tests", "data", "v1-wordpiece", "export");
  const config = readConfig(folder);
  assert.equal(config.format_version, 1);
  assert.equal(modelFilePath(config), "model.onnx");
  const model = await StaticOnnxModel.load(folder);
  const gold = golden("v1-wordpiece");
  const vectors = await model.encode(trickyTexts());
  const worst = Math.max(...vectors.map((v, i) => maxAbsDiff(v, gold.vectors[i])));
  assert.ok(worst <= TOLERANCE, `max abs diff ${worst}`);
  await model.dispose();
});

test("modelFilePath refuses a model_file outside the folder", () => {
  assert.throws(() => modelFilePath({ model_file: "../x.onnx" }, "model.onnx", "c.json"), /c\.json: model_file "\.\.\/x\.onnx"/);
  assert.equal(modelFilePath({ model_file: "onnx/model_fp16.onnx" }, "model.ort"), "onnx/model_fp16.ort");
});
