/**
 * The exported folder's config.json (docs/format.md): read and checked like Python's `read_config`.
 */

export const FORMAT_VERSION = 1;

/** The file names of an exported folder (docs/format.md). */
export const FILES = { model: "model.onnx", tokenizer: "tokenizer.json", config: "config.json" };
/** The graph files an export can hold: `model.onnx` always, `model.ort` (ORT format) with `--target mobile`. */
export const MODEL_FILES = ["model.onnx", "model.ort"];

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
      `modelFile must be "model.onnx" or "model.ort", got ${JSON.stringify(modelFile)}; ` +
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
 * @returns {{model: string, tokenizer: string}} file names relative to the folder.
 */
export function folderFiles(config, options = {}) {
  return { model: checkModelFile(options.modelFile), tokenizer: FILES.tokenizer };
}

const REQUIRED_KEYS = [
  "format_version",
  "dim",
  "vocab_size",
  "dtype",
  "normalize",
  "max_length",
  "median_token_length",
  "unk_token_id",
  "pad_token_id",
];

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
  const missing = REQUIRED_KEYS.filter((key) => !(key in config));
  if (missing.length > 0) {
    throw new Error(`${where}: missing keys ${JSON.stringify(missing)}; re-export the model with this version`);
  }
  if (config.format_version > FORMAT_VERSION) {
    throw new Error(
      `${where}: format_version ${config.format_version} is newer than this m2v-edge reads (${FORMAT_VERSION}); ` +
        "upgrade m2v-edge",
    );
  }
  if (!Number.isInteger(config.dim) || config.dim < 1) {
    throw new Error(`${where}: dim must be a positive integer, got ${JSON.stringify(config.dim)}`);
  }
  return config;
}
