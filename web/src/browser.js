/**
 * m2v-edge for browsers (pages and Workers; what bundlers pick through the "browser" condition): load an
 * exported folder over HTTP and embed texts on onnxruntime-web's plain WASM build (`onnxruntime-web/wasm`,
 * not the twice larger WebGPU/JSEP one).
 *
 *   import { StaticOnnxModel } from "m2v-edge";
 *   const model = await StaticOnnxModel.load("/models/potion-int8/", { cache: true });
 *   const [a, b] = await model.encode(["hello", "world"]);
 */
import * as ort from "onnxruntime-web/wasm";

import { setPlatform } from "./backend.js";

setPlatform({ defaultOrt: async () => ort });

export * from "./core.js";
