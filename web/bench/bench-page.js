/**
 * Browser side of bench.mjs: time from navigation start to the first vector (page, WASM and model fetched,
 * session created, one sentence encoded), then sentences/s on the benchmark texts (median of the repeats).
 */
import { StaticOnnxModel } from "/src/browser.js";

const params = new URLSearchParams(location.search);
const threads = Number(params.get("threads") ?? 1);
const repeats = Number(params.get("repeats") ?? 5);
const batchSize = Number(params.get("batch") ?? 1024);

async function run() {
  const model = await StaticOnnxModel.load("/model/", { wasmPaths: "/ort/", threads });
  await model.encode("The first sentence of the day.");
  const firstVectorMs = performance.now(); // performance.now() counts from navigation start
  const texts = await (await fetch("/bench-data/texts.json")).json();
  await model.encode(texts, { batchSize });
  const rates = [];
  const tokenizeMs = [];
  for (let r = 0; r < repeats; r++) {
    let started = performance.now();
    texts.forEach((text) => model.tokenizer.encodeIds(text));
    tokenizeMs.push(performance.now() - started);
    started = performance.now();
    await model.encode(texts, { batchSize });
    rates.push(texts.length / ((performance.now() - started) / 1000));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    threads: model.info.threads,
    isolated: globalThis.crossOriginIsolated,
    sentencesPerS: median(rates),
    tokenizeShare: median(tokenizeMs) / (texts.length / median(rates) * 1000),
    firstVectorMs,
    loadMs: model.info.loadMs,
    texts: texts.length,
  };
}

window.benchResult = run().then((result) => {
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  return result;
});
