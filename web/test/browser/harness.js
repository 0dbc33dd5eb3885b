/** Functions the Chromium tests call with page.evaluate: parity with Python's golden files, error cases. */
import { StaticOnnxModel } from "/src/browser.js";
import { parityTolerance } from "../tolerance.js";

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Encode the tricky corpus with the fixture `name` (load options: engine, WASM threads); compare with the golden file. */
window.parity = async (name, options = {}) => {
  const [texts, gold] = await Promise.all([getJson("/data/tricky_texts.json"), getJson(`/fixtures/golden/${name}.json`)]);
  const model = await StaticOnnxModel.load(`/fixtures/${name}/`, { wasmPaths: "/ort/", ...options });
  const idMismatches = [];
  texts.forEach((text, i) => {
    if (!sameIds(model.tokenizer.encodeIds(text), gold.ids[i])) idMismatches.push(i);
  });
  const started = performance.now();
  const vectors = await model.encode(texts);
  const encodeMs = performance.now() - started;
  const diffs = vectors.map((v, i) => maxDiff(v, gold.vectors[i]));
  // each text's difference over its float32 summation bound (tolerance.js): at most 1 when within it
  const overBound = Math.max(...diffs.map((d, i) => d / parityTolerance(gold.vectors[i], gold.ids[i].length)));
  const info = { ...model.info, normalize: model.normalize, dim: model.dim, tableInPlace: model.session.tableInPlace ?? null };
  await model.dispose();
  const memory = performance.memory ? performance.memory.usedJSHeapSize : null;
  const cores = navigator.hardwareConcurrency;
  return { n: texts.length, idMismatches, maxDiff: Math.max(...diffs), overBound, encodeMs, info, memory, cores, isolated: crossOriginIsolated };
};

function maxDiff(a, b) {
  let worst = a.length === b.length ? 0 : Infinity;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]));
  return worst;
}

/**
 * Encode the tricky corpus with the fixture's `model.onnx` and `model.ort`; max abs differences between the two
 * and against the golden (Python) vectors, plus the error for a bad `modelFile` and a folder without model.ort.
 */
window.ortParity = async (name, withoutOrt) => {
  const texts = await getJson("/data/tricky_texts.json");
  const gold = await getJson(`/fixtures/golden/${name}.json`);
  const onnx = await StaticOnnxModel.load(`/fixtures/${name}/`, { wasmPaths: "/ort/" });
  const ort = await StaticOnnxModel.load(`/fixtures/${name}/`, { wasmPaths: "/ort/", modelFile: "model.ort" });
  const fromOnnx = await onnx.encode(texts);
  const fromOrt = await ort.encode(texts);
  const worst = (vectors, other) => Math.max(...vectors.map((v, i) => maxDiff(v, other[i])));
  const result = {
    n: texts.length,
    nonZero: fromOrt.filter((v) => v.some((x) => x !== 0)).length,
    files: [onnx.info.modelFile, ort.info.modelFile],
    bytes: [onnx.info.modelBytes, ort.info.modelBytes],
    between: worst(fromOrt, fromOnnx),
    ortToPython: worst(fromOrt, gold.vectors),
    onnxToPython: worst(fromOnnx, gold.vectors),
    badName: await message(() => StaticOnnxModel.load(`/fixtures/${name}/`, { modelFile: "model.bin" })),
    missing: await message(() => StaticOnnxModel.load(`/fixtures/${withoutOrt}/`, { modelFile: "model.ort" })),
  };
  await onnx.dispose();
  await ort.dispose();
  return result;
};

/** Run `fn` and return the rejection's message (or "resolved" when it did not reject). */
async function message(fn) {
  try {
    await fn();
    return "resolved";
  } catch (err) {
    return err.message;
  }
}

/** The error cases: each returns the message of the rejected promise. */
window.errors = async () => {
  const model = await StaticOnnxModel.load("/fixtures/potion-int8/", { wasmPaths: "/ort/" });
  return {
    nonString: await message(() => model.encode(42)),
    badItem: await message(() => model.encode(["ok", { text: "no" }])),
    empty: JSON.stringify(await model.encode([])),
    missingFolder: await message(() => StaticOnnxModel.load("/fixtures/no-such-model/")),
    corruptModel: await message(() => StaticOnnxModel.load("/broken/")),
    tamperedKernel: await message(() => StaticOnnxModel.load("/tampered/", { engine: "kernel" })),
    tamperedOrt: await message(() => StaticOnnxModel.load("/tampered/", { engine: "onnxruntime", wasmPaths: "/ort/" })),
  };
};

/** Loading with a wrong wasm path (call on a fresh page: onnxruntime-web's setup is global). */
window.wrongWasm = () =>
  message(() => StaticOnnxModel.load("/fixtures/potion-int8/", { wasmPaths: "/no-such-ort/", engine: "onnxruntime" }));

/**
 * `tokenizerWorkers`: the tricky corpus repeated past the pool's threshold (so every worker gets chunks), encoded
 * through the pool; ids from the workers and vectors compared with the golden file, plus the page tokenizer's
 * vectors for the same texts.
 */
window.poolParity = async (name, workers, copies) => {
  const [corpus, gold] = await Promise.all([getJson("/data/tricky_texts.json"), getJson(`/fixtures/golden/${name}.json`)]);
  const texts = Array.from({ length: copies }, () => corpus).flat();
  const model = await StaticOnnxModel.load(`/fixtures/${name}/`, { wasmPaths: "/ort/", tokenizerWorkers: workers });
  const poolIds = await model.pool.encodeIds(corpus);
  const idMismatches = corpus.map((_, i) => i).filter((i) => !sameIds(Array.from(poolIds[i]), gold.ids[i]));
  const vectors = await model.encode(texts);
  const maxToPython = Math.max(...vectors.map((v, i) => maxDiff(v, gold.vectors[i % corpus.length])));
  const pooledWorkers = model.pool.workers.length;
  await model.dispose();
  let disposed = "";
  await model.pool.encodeIds(["after dispose"]).catch((err) => (disposed = err.message));
  return { n: texts.length, idMismatches, maxToPython, pooledWorkers, disposed };
};

/** Rows of `vectors` whose bits differ from `want[positions[i]]` (bit equality, not closeness). */
function bitDifferences(vectors, want, positions) {
  let rows = 0;
  vectors.forEach((v, i) => {
    const a = new Int32Array(v.buffer, v.byteOffset, v.length);
    const w = want[positions[i]];
    const b = new Int32Array(w.buffer, w.byteOffset, w.length);
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) rows++;
  });
  return rows;
}

/**
 * One text, one vector: encode `texts` one at a time, then together at several batch sizes and in reverse order;
 * count the rows whose bits differ from the one-at-a-time vectors (load `options`: engine, threads, workers).
 */
window.determinism = async (name, options, texts) => {
  const model = await StaticOnnxModel.load(`/fixtures/${name}/`, { wasmPaths: "/ort/", ...options });
  const one = [];
  for (const text of texts) one.push((await model.encode(text)).slice());
  const all = texts.map((_, i) => i);
  const differing = {};
  for (const batchSize of [1, 7, 128]) {
    differing[`batch ${batchSize}`] = bitDifferences(await model.encode(texts, { batchSize }), one, all);
  }
  const reversed = [...all].reverse();
  differing.reversed = bitDifferences(await model.encode(reversed.map((i) => texts[i])), one, reversed);
  const info = { ...model.info, workers: model.pool?.workers.length ?? 0 };
  await model.dispose();
  return { n: texts.length, differing, info };
};
