/**
 * The exported folder's config.json (docs/format.md): read and checked like Python's `read_config`.
 */

import {
  FILES as EXPORT_FILES,
  FOLDER_PATH_DECODES,
  FOLDER_PATH_MESSAGE,
  FOLDER_PATH_RULES,
  FORMAT_VERSION,
  MODEL_FILE_KEY,
  REMEDY_REEXPORT,
  REQUIRED_KEYS,
} from "./contract.js";
import { checkFormatVersion, fill, message, validateConfig } from "./validate.js";

export { FORMAT_VERSION };

/** The file names of an exported folder (docs/format.md). */
export const FILES = { model: EXPORT_FILES.model, tokenizer: EXPORT_FILES.tokenizer, config: EXPORT_FILES.config };
/** The graph files an export can hold: `model.onnx` always, `model.ort` (ORT format) with `--target mobile`. */
export const MODEL_FILES = [EXPORT_FILES.model, EXPORT_FILES.ortModel];

/**
 * Check the `modelFile` option.
 *
 * @param {string | undefined} modelFile
 * @returns {string} the graph file to read (default `model.onnx`).
 */
export function checkModelFile(modelFile) {
  if (modelFile === undefined) return FILES.model;
  if (!MODEL_FILES.includes(modelFile)) {
    throw new TypeError(
      `modelFile must be ${MODEL_FILES.map((f) => JSON.stringify(f)).join(" or ")}, got ${JSON.stringify(modelFile)}; ` +
        "model.ort is written by `m2v-edge export --target mobile`",
    );
  }
  return modelFile;
}

/**
 * The one place that decides which files of a folder to read once config.json is known.
 *
 * @param {object} config the folder's parsed config.json.
 * @param {{modelFile?: string}} [options]
 * @param {string} [where] config.json's path or URL, for error messages.
 * @returns {{model: string, tokenizer: string}} file names relative to the folder.
 */
export function folderFiles(config, options = {}, where = FILES.config) {
  return { model: modelFilePath(config, checkModelFile(options.modelFile), where), tokenizer: FILES.tokenizer };
}

/**
 * The error for a file that is not JSON: one line (V8's message may quote the bad text across lines).
 *
 * @param {string} where the file.
 * @param {Error} err JSON.parse's error.
 * @returns {Error}
 */
export function notJson(where, err) {
  return new Error(`${where}: not valid JSON (${err.message.replace(/\s*\n\s*/g, " ")}); re-export the model`, { cause: err });
}

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
      throw notJson(where, err);
    }
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new Error(message("not_object", { where, got: "" }));
  }
  // The version first: a newer folder may have renamed keys, and its remedy is "upgrade", not "re-export".
  checkFormatVersion(config, where);
  const missing = REQUIRED_KEYS.filter((key) => !(key in config));
  if (missing.length > 0) {
    throw new Error(message("missing_keys", { where, missing }));
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
export function modelFilePath(config, modelFile = EXPORT_FILES.model, where = EXPORT_FILES.config) {
  const value = config?.[MODEL_FILE_KEY];
  const name = typeof value === "string" && value ? value : EXPORT_FILES.model;
  checkFolderPath(name, MODEL_FILE_KEY, where);
  if (!name.endsWith(".onnx")) throw new Error(`${where}: ${MODEL_FILE_KEY} ${JSON.stringify(name)} must name a .onnx file; ${REMEDY_REEXPORT}`);
  return modelFile === EXPORT_FILES.ortModel ? name.replace(/\.onnx$/, ".ort") : name;
}

/**
 * The one check of a path config.json gives (`model_file`, the `files` list): a plain relative path inside the
 * folder, whatever decodes it. The rules are contract.js `FOLDER_PATH_RULES` (Python: `check_folder_path`): a
 * malformed percent-escape is refused, escapes are decoded up to `FOLDER_PATH_DECODES` times (`%2e%2e` is `..` to
 * a URL resolver, `%252e` after two decodings), and no stage may hold a backslash, `?`, `#` or a control character,
 * be absolute or a URL (`https:`, `C:`, `//host`), or have an empty, `.` or `..` segment.
 *
 * @param {string} path
 * @param {string} key the config key, for the message.
 * @param {string} where config.json's path or URL.
 * @returns {string} the path, unchanged.
 */
export function checkFolderPath(path, key, where) {
  const refuse = (why) => new Error(fill(FOLDER_PATH_MESSAGE, { where, key, path: JSON.stringify(path), why }));
  const [malformed, ...rules] = FOLDER_PATH_RULES.map(([pattern, why]) => [new RegExp(pattern), why]);
  const seen = [path];
  for (let i = 0; ; i++) {
    if (i === FOLDER_PATH_DECODES) throw refuse("is percent-encoded too many times");
    const text = seen[seen.length - 1];
    if (malformed[0].test(text)) throw refuse(malformed[1]);
    let next;
    try {
      next = decodeURIComponent(text);
    } catch {
      throw refuse(malformed[1]);
    }
    if (next === text) break;
    seen.push(next);
  }
  for (const text of seen) {
    for (const [pattern, why] of rules) if (pattern.test(text)) throw refuse(why);
  }
  return path;
}
