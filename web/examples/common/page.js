/**
 * The example apps' one job (vite-app, esbuild-app, webpack-app, rollup-app, next-app link this file): load the
 * int8 model served at ../model/ and rank the seed card's example. On a page it loads with one tokenizer Worker
 * and encodes 300 texts through it, so the bundle must emit m2v-edge's tokenize-worker.js (else the load fails).
 */
import { StaticOnnxModel } from "m2v-edge";

export const QUERY = "How do I train a neural network?";
export const DOCUMENTS = ["Neural networks in biology", "Machine learning frameworks", "Neural network training tutorial and guide"];

/**
 * @param {string} modelUrl the exported folder's URL.
 * @returns {Promise<{hits: {document: string, score: number}[], info: object, progress: object[], pooled: number}>}
 */
export async function rankExample(modelUrl) {
  const progress = [];
  const onPage = typeof document !== "undefined";
  const model = await StaticOnnxModel.load(modelUrl, {
    cache: true,
    progress: (event) => progress.push(event),
    tokenizerWorkers: onPage ? 1 : 0,
  });
  // More than POOL_MIN_TEXTS (256) texts: the page sends them to its tokenizer Worker.
  const texts = Array.from({ length: onPage ? 300 : 0 }, (_, i) => `${DOCUMENTS[i % DOCUMENTS.length]} ${i}`);
  const pooled = (await model.encode(texts)).length;
  const hits = await model.search(QUERY, DOCUMENTS);
  await model.dispose();
  return { hits: hits.map(({ document, score }) => ({ document, score })), info: model.info, progress, pooled };
}

/** Rank, list the hits in #results, and leave the result's promise in `window.exampleResult`. */
export function showExample(modelUrl = new URL("../model/", location.href).href) {
  window.exampleResult = rankExample(modelUrl).then((result) => {
    document.getElementById("results").replaceChildren(
      ...result.hits.map((hit) => Object.assign(document.createElement("li"), { textContent: `${hit.score.toFixed(3)} ${hit.document}` })),
    );
    return result;
  });
  return window.exampleResult;
}
