/**
 * m2v-edge for bundled browser apps (what bundlers pick through the "browser" condition of `m2v-edge`): the
 * pooling kernel runs int8 exports, and nothing here refers to ONNX Runtime, so an app that ships only int8
 * exports builds with or without onnxruntime-web installed and ships no ONNX Runtime wasm (webpack, rollup,
 * vite, esbuild, Next.js; web/examples). For other exports (float16/float32, `model.ort`, `engine:
 * "onnxruntime"`) import from `m2v-edge/ort` instead (onnxruntime-web/wasm, imported on the first load that
 * needs it), or pass `{ ort }`.
 *
 *   import { StaticOnnxModel } from "m2v-edge";
 *   const model = await StaticOnnxModel.load("/models/potion-int8/", { cache: true });
 */
import { setPlatform } from "./backend.js";

setPlatform({
  defaultOrt: null,
  noDefaultOrt:
    'the "m2v-edge" browser entry runs int8 exports only; `npm install onnxruntime-web` and import from "m2v-edge/ort", ' +
    "or pass { ort }",
});

export * from "./core.js";
