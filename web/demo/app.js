/** The demo page: load the exported model served at /model/, rank the editable documents for each query. */
import { StaticOnnxModel, defaultThreads } from "/src/browser.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const threads = params.has("threads") ? Number(params.get("threads")) : defaultThreads();

async function search(model) {
  const docs = $("documents").value.split("\n").map((d) => d.trim()).filter((d) => d.length > 0);
  const started = performance.now();
  const hits = await model.search($("query").value, docs);
  const ms = performance.now() - started;
  $("results").replaceChildren(
    ...hits.map((hit) => {
      const item = document.createElement("li");
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = hit.score.toFixed(3);
      item.append(score, hit.document);
      return item;
    }),
  );
  $("timing").textContent = `${ms.toFixed(1)} ms for this query (${docs.length + 1} texts encoded)`;
  window.m2vDemo.lastHits = hits;
  window.m2vDemo.searches += 1;
  return hits;
}

async function start() {
  const model = await StaticOnnxModel.load("/model/", { wasmPaths: "/ort/", threads });
  const { loadMs, modelBytes } = model.info;
  const isolated = globalThis.crossOriginIsolated ? "cross-origin isolated" : "not isolated";
  $("status").textContent =
    `model loaded in ${loadMs.toFixed(0)} ms (${(modelBytes / 1e6).toFixed(1)} MB, ${model.dim}-d, ` +
    `WASM, ${model.info.threads} thread${model.info.threads > 1 ? "s" : ""}, ${isolated})`;
  $("search").disabled = false;
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search(model);
  });
  await search(model);
  return model;
}

window.m2vDemo = { lastHits: null, searches: 0, search: null };
window.m2vDemo.ready = start().then(
  (model) => {
    window.m2vDemo.search = () => search(model);
    return true;
  },
  (err) => {
    $("status").textContent = `could not load the model: ${err.message}`;
    $("status").classList.add("error");
    throw err;
  },
);
