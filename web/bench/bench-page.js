/**
 * Browser side of bench.mjs: time from navigation start to the first vector (page, WASM and model fetched,
 * session created, one sentence encoded), then sentences/s on the benchmark texts (median of the repeats), and
 * where the encode time goes: the JS tokenizer alone, `session.run` (the graph: the kernel or ORT) and the rest (sorting,
 * padding, copies), each the median over the repeats.
 * URL parameters: engine (auto: the pooling kernel; onnxruntime), threads (ORT WASM threads), repeats, batch,
 * tokenizerWorkers (0: tokenize on the page),
 * pause (profile.mjs: after the first vector, set `window.benchReady` and wait for `window.benchGo()`).
 */
import { StaticOnnxModel } from "/src/browser.js";

const params = new URLSearchParams(location.search);
const engine = params.get("engine") ?? "auto";
const threads = Number(params.get("threads") ?? 1);
const repeats = Number(params.get("repeats") ?? 5);
const batchSize = Number(params.get("batch") ?? 1024);
const tokenizerWorkers = Number(params.get("tokenizerWorkers") ?? 0);
const pause = params.get("pause") === "1";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function run() {
  const model = await StaticOnnxModel.load("/model/", { wasmPaths: "/ort/", engine, threads, tokenizerWorkers });
  await model.encode("The first sentence of the day.");
  const firstVectorMs = performance.now(); // performance.now() counts from navigation start
  const texts = await (await fetch("/bench-data/texts.json")).json();
  if (pause) await new Promise((go) => Object.assign(window, { benchReady: true, benchGo: go }));
  await model.encode(texts, { batchSize });
  let graphMs = 0;
  const session = model.session;
  const sessionRun = session.run.bind(session);
  session.run = async (feeds) => {
    const started = performance.now();
    const out = await sessionRun(feeds);
    graphMs += performance.now() - started;
    return out;
  };
  const [rates, encodeMs, tokenizeMs, graphs] = [[], [], [], []];
  for (let r = 0; r < repeats; r++) {
    let started = performance.now();
    if (!pause) texts.forEach((text) => model.tokenizer.encodeIds(text)); // profile.mjs: only the encodes
    tokenizeMs.push(performance.now() - started);
    graphMs = 0;
    started = performance.now();
    await model.encode(texts, { batchSize });
    const ms = performance.now() - started;
    encodeMs.push(ms);
    graphs.push(graphMs);
    rates.push(texts.length / (ms / 1000));
  }
  const result = {
    backend: model.info.backend,
    threads: model.info.threads,
    tokenizerWorkers,
    isolated: globalThis.crossOriginIsolated,
    sentencesPerS: median(rates),
    encodeMs: median(encodeMs),
    tokenizeMs: median(tokenizeMs),
    graphMs: median(graphs),
    tokenizeShare: median(tokenizeMs) / median(encodeMs),
    firstVectorMs,
    loadMs: model.info.loadMs,
    texts: texts.length,
  };
  await model.dispose();
  return result;
}

window.benchResult = run().then((result) => {
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  return result;
});
