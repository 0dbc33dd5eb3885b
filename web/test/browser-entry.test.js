/**
 * The "browser" entry bundlers pick (src/browser-kernel.js): int8 exports on the pooling kernel, and for any
 * other export a rejection that says to import "m2v-edge/ort" or pass { ort }, never an ONNX Runtime import
 * (its own process: the entry sets the package-wide platform).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { StaticOnnxModel } from "../src/browser-kernel.js";
import { FIXTURES } from "./helpers.js";

async function served(name, body) {
  const server = await startServer({ modelDir: join(FIXTURES, name) });
  try {
    return await body(`${server.url}model/`);
  } finally {
    await server.close();
  }
}

test("browser entry: an int8 export runs on the kernel and ranks the tutorial first", async () => {
  await served("potion-int8", async (url) => {
    const model = await StaticOnnxModel.load(url);
    assert.equal(model.info.backend, "m2v-edge-kernel");
    const hits = await model.search("How do I train a neural network?", ["Neural networks in biology", "Neural network training tutorial and guide"]);
    assert.equal(hits[0].document, "Neural network training tutorial and guide");
    await model.dispose();
  });
});

test("browser entry: a float16 export is refused with the entry to import instead", async () => {
  await served("wordpiece-fp16-hf", async (url) => {
    await assert.rejects(
      StaticOnnxModel.load(url),
      /the pooling kernel cannot run it \(.*float16.*\), so ONNX Runtime must: .*"m2v-edge" browser entry runs int8 exports only; `npm install onnxruntime-web` and import from "m2v-edge\/ort", or pass \{ ort \}/,
    );
  });
});
