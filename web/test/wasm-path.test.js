/** A wrong wasmPaths gives a rejected promise saying where the .wasm files must be served (own process: ORT's env is global). */
import assert from "node:assert/strict";
import { test } from "node:test";

import { StaticOnnxModel } from "../src/index.js";
import { fixture } from "./helpers.js";

test("a wrong wasm path is rejected with a clear message", async () => {
  await assert.rejects(
    StaticOnnxModel.load(fixture("potion-int8"), { wasmPaths: "/no/such/ort-dist/", engine: "onnxruntime" }),
    /onnxruntime-web could not load its WebAssembly from "\/no\/such\/ort-dist\/" .*; serve ort-wasm-simd-threaded\.wasm and ort-wasm-simd-threaded\.mjs there or pass the right `wasmPaths`/,
  );
});
