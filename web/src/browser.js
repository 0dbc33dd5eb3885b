/**
 * m2v-edge for browsers (pages and Workers; what bundlers pick through the "browser" condition): load an
 * exported folder over HTTP and embed texts on onnxruntime-web's plain WASM build (`onnxruntime-web/wasm`,
 * not the twice larger WebGPU/JSEP one).
 *
 *   import { StaticOnnxModel } from "m2v-edge";
 *   const model = await StaticOnnxModel.load("/models/potion-int8/", { cache: true });
 *   const [a, b] = await model.encode(["hello", "world"]);
 */
import { setPlatform } from "./backend.js";

// Imported on the first load, so bundlers put ORT in its own chunk: with WASM threads, onnxruntime-web starts its
// worker threads from the script that holds it, and that must not be the app's entry (which touches the DOM).
setPlatform({ defaultOrt: () => import("onnxruntime-web/wasm") });

export * from "./core.js";
