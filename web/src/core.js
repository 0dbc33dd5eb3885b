/**
 * m2v-edge without a default ONNX Runtime and without Node or browser specifics: the React Native entry
 * (`m2v-edge/core`, also what `m2v-edge` resolves to under the "react-native" condition). Pass `{ ort }`
 * (onnxruntime-react-native) and, for files in the app bundle, `{ loadFile }`.
 *
 *   import * as ort from "onnxruntime-react-native";
 *   import { StaticOnnxModel } from "m2v-edge/core";
 *   const model = await StaticOnnxModel.load("potion-int8", { ort, loadFile });
 */
/** @typedef {import("./model.js").LoadOptions} LoadOptions */
/** @typedef {import("./model.js").LoadProgress} LoadProgress */
/** @typedef {import("./model.js").LoadInfo} LoadInfo */
/** @typedef {import("./model.js").ModelFiles} ModelFiles */

export { FILES, FORMAT_VERSION, MODEL_FILES, parseConfig } from "./config.js";
export { StaticOnnxModel, configureWasm, defaultThreads } from "./model.js";
export { cosine, rank } from "./similarity.js";
export { TextTokenizer, checkTexts, cutCodePoints } from "./tokenize.js";
export { VectorFile, modelFingerprint } from "./vectors.js";
