/**
 * The exported folder's config.json (docs/format.md): read and checked like Python's `read_config`.
 */

import { FILES, FORMAT_VERSION, MODEL_FILE_KEY, REQUIRED_KEYS } from "./contract.js";
import { checkFormatVersion, validateConfig } from "./validate.js";

export { FORMAT_VERSION };

/**
 * Parse and validate config.json.
 *
 * @param {string | object} raw the file's text or an already parsed object.
 * @param {string} where a name for error messages (path or URL).
 * @returns {object} the config.
 */
export function parseConfig(raw, where) {
  let config = raw;
  if (typeof raw === "string") {
    try {
      config = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${err.message}); re-export the model`, { cause: err });
    }
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new Error(`${where}: expected a JSON object; re-export the model`);
  }
  // The version first: a newer folder may have renamed keys, and its remedy is "upgrade", not "re-export".
  checkFormatVersion(config, where);
  const missing = REQUIRED_KEYS.filter((key) => !(key in config));
  if (missing.length > 0) {
    throw new Error(`${where}: missing keys ${JSON.stringify(missing)}; re-export the model with this version`);
  }
  return validateConfig(config, where);
}

/**
 * The graph's path inside an exported folder, the one place the JS runtime resolves it (as Python's
 * `ExportFiles`): config.json's `model_file` (format 2, e.g. `onnx/model_quantized.onnx`), else the format-1
 * `model.onnx`. With `modelFile: "model.ort"` the ORT-format graph next to it (`onnx/model_quantized.ort`).
 *
 * @param {object} config the parsed config.json.
 * @param {string} [modelFile] `"model.onnx"` (default) or `"model.ort"`.
 * @param {string} [where] a name for error messages.
 * @returns {string} a relative path with "/" separators.
 */
export function modelFilePath(config, modelFile = FILES.model, where = FILES.config) {
  const value = config?.[MODEL_FILE_KEY];
  const name = typeof value === "string" && value ? value : FILES.model;
  if (name.startsWith("/") || /^[a-z]+:/i.test(name) || name.split(/[/\\]/).includes("..") || !name.endsWith(".onnx")) {
    throw new Error(`${where}: model_file ${JSON.stringify(name)} must be a relative .onnx path inside the folder`);
  }
  return modelFile === FILES.ortModel ? name.replace(/\.onnx$/, ".ort") : name;
}
