/** The page: rank on the main thread (`?mode=page`, default) or in a module Worker (`?mode=worker`). */
import { rankExample } from "./search.js";

const modelUrl = new URL("../model/", location.href).href;

function inWorker() {
  const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => {
      worker.terminate();
      if (event.data.ok) resolve(event.data);
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage({ modelUrl });
  });
}

async function main() {
  const mode = new URLSearchParams(location.search).get("mode") ?? "page";
  const result = mode === "worker" ? await inWorker() : await rankExample(modelUrl);
  document.getElementById("status").textContent = `${mode}: ${result.info.backend}, ${result.info.modelBytes} bytes`;
  document.getElementById("results").replaceChildren(
    ...result.hits.map((hit) => Object.assign(document.createElement("li"), { textContent: `${hit.score.toFixed(3)} ${hit.document}` })),
  );
  return { mode, ...result };
}

window.exampleResult = main();
