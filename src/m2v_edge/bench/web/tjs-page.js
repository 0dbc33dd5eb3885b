/**
 * transformers.js (@huggingface/transformers 4.x, its own bundled onnxruntime-web, served from localhost) on our
 * Hugging Face-layout export at /model/: `AutoTokenizer` + `AutoModel`, offline, WASM, the same fresh slices and
 * timings as bench-page.js (slice 0 warms up; each later slice is one timed repeat; `warmSentencesPerS` re-encodes
 * slice 0). Batches of `batch` texts, padded to the batch's longest (what `tokenizer(texts, {padding: true})` does).
 */
import { AutoModel, AutoTokenizer, env } from "/tjs/transformers.min.js";

const params = new URLSearchParams(location.search);
const batchSize = Number(params.get("batch") ?? 1024);
const threads = Number(params.get("threads") ?? 1);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = "/";
env.useBrowserCache = false;
env.backends.onnx.wasm.wasmPaths = "/tjs-ort/";
env.backends.onnx.wasm.numThreads = threads;

async function run() {
  const started = performance.now();
  const tokenizer = await AutoTokenizer.from_pretrained("model");
  const model = await AutoModel.from_pretrained("model", { device: "wasm" });
  const encode = async (texts) => {
    for (let i = 0; i < texts.length; i += batchSize) {
      const inputs = tokenizer(texts.slice(i, i + batchSize), { padding: true, truncation: true });
      await model(inputs); // { embeddings }: one pooled row per text
    }
  };
  await encode(["The first sentence of the day."]);
  const firstVectorMs = performance.now();
  const loadMs = firstVectorMs - started;
  const { slices } = await (await fetch("/bench-data/texts.json")).json();
  await encode(slices[0]);
  const [rates, warm] = [[], []];
  for (const texts of slices.slice(1)) {
    const t0 = performance.now();
    await encode(texts);
    rates.push(texts.length / ((performance.now() - t0) / 1000));
  }
  for (let r = 1; r < slices.length; r++) {
    const t0 = performance.now();
    await encode(slices[0]);
    warm.push(slices[0].length / ((performance.now() - t0) / 1000));
  }
  await model.dispose();
  return {
    backend: "transformers.js",
    threads,
    tokenizerWorkers: 0,
    isolated: globalThis.crossOriginIsolated,
    sentencesPerS: median(rates),
    samples: rates,
    warmSentencesPerS: median(warm),
    firstVectorMs,
    loadMs,
    texts: slices[1].length,
  };
}

window.benchResult = run().then((result) => {
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  return result;
});
