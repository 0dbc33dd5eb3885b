/**
 * Browser side of bench.mjs and peers.mjs: time from navigation start to the first vector (page, WASM and model
 * fetched, session created, one sentence encoded), then sentences/s on fresh text: /bench-data/texts.json holds
 * `{slices}`, slice 0 warms up and each later slice is one timed repeat that no earlier call saw (the word caches
 * start cold for it); `warmSentencesPerS` re-encodes slice 0 (seen: warm caches), reported apart. Also where the
 * encode time goes: the JS tokenizer alone (on a copy of the model, so its caches do not warm the timed one),
 * `session.run` (the graph: the kernel or ORT) and the rest, each the median over the repeats.
 * URL parameters: engine (auto: the pooling kernel; onnxruntime), threads (ORT WASM threads), batch,
 * tokenizerWorkers (0: tokenize on the page), split (1: time the tokenizer alone too),
 * pause (profile.mjs: after the first vector, set `window.benchReady` and wait for `window.benchGo()`).
 */
import { StaticOnnxModel } from "/src/browser.js";

const params = new URLSearchParams(location.search);
const engine = params.get("engine") ?? "auto";
const threads = Number(params.get("threads") ?? 1);
const batchSize = Number(params.get("batch") ?? 1024);
const tokenizerWorkers = Number(params.get("tokenizerWorkers") ?? 0);
const split = params.get("split") === "1";
const pause = params.get("pause") === "1";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run() {
  const options = { wasmPaths: "/ort/", engine, threads, tokenizerWorkers };
  const model = await StaticOnnxModel.load("/model/", options);
  await model.encode("The first sentence of the day.");
  const firstVectorMs = performance.now(); // performance.now() counts from navigation start
  const { slices } = await (await fetch("/bench-data/texts.json")).json();
  const tokenizerOnly = split ? await StaticOnnxModel.load("/model/", { ...options, tokenizerWorkers: 0 }) : null;
  if (pause) await new Promise((go) => Object.assign(window, { benchReady: true, benchGo: go }));
  await model.encode(slices[0], { batchSize });
  let graphMs = 0;
  const session = model.session;
  const sessionRun = session.run.bind(session);
  session.run = async (feeds) => {
    const started = performance.now();
    const out = await sessionRun(feeds);
    graphMs += performance.now() - started;
    return out;
  };
  const [rates, encodeMs, tokenizeMs, graphs, warm] = [[], [], [], [], []];
  for (const texts of slices.slice(1)) {
    let started = performance.now();
    if (tokenizerOnly) texts.forEach((text) => tokenizerOnly.tokenizer.encodeIds(text));
    tokenizeMs.push(performance.now() - started);
    graphMs = 0;
    started = performance.now();
    await model.encode(texts, { batchSize });
    const ms = performance.now() - started;
    encodeMs.push(ms);
    graphs.push(graphMs);
    rates.push(texts.length / (ms / 1000));
  }
  for (let r = 1; r < slices.length && !pause; r++) {
    // profile.mjs (pause) profiles unseen text only: no warm re-encodes
    const started = performance.now();
    await model.encode(slices[0], { batchSize });
    warm.push(slices[0].length / ((performance.now() - started) / 1000));
  }
  const result = {
    backend: model.info.backend,
    threads: model.info.threads,
    tokenizerWorkers,
    isolated: globalThis.crossOriginIsolated,
    sentencesPerS: median(rates),
    samples: rates,
    warmSentencesPerS: warm.length ? median(warm) : null,
    encodeMs: median(encodeMs),
    tokenizeMs: median(tokenizeMs),
    graphMs: median(graphs),
    tokenizeShare: median(tokenizeMs) / median(encodeMs),
    firstVectorMs,
    loadMs: model.info.loadMs,
    texts: slices[1].length,
  };
  await model.dispose();
  await tokenizerOnly?.dispose();
  return result;
}

window.benchResult = run().then((result) => {
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  return result;
});
