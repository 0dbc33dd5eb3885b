#!/usr/bin/env node
/**
 * Node: rank the seed card's example with an exported folder on any backend.
 *   node main.mjs MODEL_DIR [--backend kernel|web|node]
 * `kernel` is the package's default (its WebAssembly pooling kernel); `web` is onnxruntime-web (WASM);
 * `node` is onnxruntime-node (native).
 */
import { parseArgs } from "node:util";

import { StaticOnnxModel } from "m2v-edge";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { backend: { type: "string", default: "kernel" } } });
if (positionals.length !== 1 || !["kernel", "web", "node"].includes(values.backend)) {
  console.error("usage: node main.mjs MODEL_DIR [--backend kernel|web|node]");
  process.exit(2);
}
const ort = values.backend === "node" ? await import("onnxruntime-node") : undefined;
const model = await StaticOnnxModel.load(positionals[0], { ort, engine: values.backend === "kernel" ? "auto" : "onnxruntime" });
const hits = await model.search("How do I train a neural network?", [
  "Neural networks in biology",
  "Machine learning frameworks",
  "Neural network training tutorial and guide",
]);
console.log(JSON.stringify({ backend: model.info.backend, hits: hits.map(({ document, score }) => ({ document, score })) }));
await model.dispose();
