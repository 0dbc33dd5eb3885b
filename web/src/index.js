/**
 * m2v-edge for browsers and Node: load an exported folder and embed texts with the same tokens and vectors
 * as the Python runtime.
 *
 *   import { StaticOnnxModel } from "m2v-edge";
 *   const model = await StaticOnnxModel.load("/models/potion-int8/", { wasmPaths: "/ort/" });
 *   const [a, b] = await model.encode(["hello", "world"]);
 */
export { FORMAT_VERSION, parseConfig } from "./config.js";
export { StaticOnnxModel, configureWasm, defaultThreads } from "./model.js";
export { cosine, rank } from "./similarity.js";
export { TextTokenizer, checkTexts, cutCodePoints } from "./tokenize.js";
export { VectorFile, modelFingerprint } from "./vectors.js";
