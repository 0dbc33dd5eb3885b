/**
 * Where the three files of an exported folder come from: a folder URL (browser), a folder path (Node),
 * or the files themselves (ArrayBuffer / Uint8Array / string / parsed object).
 */

import { FILES as EXPORT_FILES } from "./contract.js";
import { isNode } from "./env.js";

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

/** True for ORT-format bytes (flatbuffer file identifier "ORTM" at offset 4), false for ONNX protobuf. */
export function isOrtFormat(bytes) {
  return bytes.length >= 8 && String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]) === "ORTM";
}

function isUrlLike(text) {
  return /^(https?|blob|data):/i.test(text) || (!isNode && !/^file:/i.test(text));
}

function asBytes(value, name) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`${name}: expected an ArrayBuffer or Uint8Array`);
}

function asText(value, name) {
  if (typeof value === "string") return value;
  return new TextDecoder("utf-8").decode(asBytes(value, name));
}

function asJson(value, name) {
  if (value !== null && typeof value === "object" && !(value instanceof ArrayBuffer) && !ArrayBuffer.isView(value)) {
    return value;
  }
  try {
    return JSON.parse(asText(value, name));
  } catch (err) {
    throw new Error(`${name}: not valid JSON (${err.message}); re-export the model`, { cause: err });
  }
}

async function fetchFile(base, name, fetchImpl, kind) {
  const url = new URL(name, base).href;
  let response;
  try {
    response = await fetchImpl(url);
  } catch (err) {
    throw new Error(`${url}: cannot fetch it (${err.message}); serve the exported folder's ${name} there`, {
      cause: err,
    });
  }
  if (!response.ok) {
    const hint = name === EXPORT_FILES.ortModel ? " (written by `m2v-edge export --target mobile`)" : "";
    throw new Error(`${url}: HTTP ${response.status}; serve the exported folder's ${name}${hint} there`);
  }
  if (kind === "bytes") return { where: url, value: new Uint8Array(await response.arrayBuffer()) };
  return { where: url, value: await response.text() };
}

async function readPath(folder, name, kind) {
  const { readFile } = await import("node:fs/promises");
  const { join } = await import("node:path");
  const { fileURLToPath } = await import("node:url");
  const dir = folder instanceof URL || /^file:/i.test(folder) ? fileURLToPath(folder) : folder;
  const path = join(dir, name);
  try {
    const data = await readFile(path);
    return { where: path, value: kind === "bytes" ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString("utf-8") };
  } catch (err) {
    if (err.code === "ENOENT") {
      const how = name === EXPORT_FILES.ortModel ? "m2v-edge export --target mobile" : "m2v-edge export";
      throw new Error(`${path}: no such file; export the model with \`${how}\` and give its folder`, { cause: err });
    }
    throw new Error(`${path}: cannot read it (${err.message})`, { cause: err });
  }
}

/**
 * Get the three files' contents.
 *
 * @param {string | URL | {model: ArrayBuffer|Uint8Array, tokenizer: any, config: any}} source
 * @param {{fetch?: typeof fetch, modelFile?: string}} [options] `modelFile`: `model.onnx` (default) or
 *   `model.ort` for a folder; given bytes may be either format (detected).
 * @returns {Promise<{model: Uint8Array, modelFile: string, tokenizer: object, config: object|string, where: object}>}
 */
export async function readSource(source, options = {}) {
  const modelFile = checkModelFile(options.modelFile);
  if (source !== null && typeof source === "object" && !(source instanceof URL)) {
    for (const key of Object.keys(FILES)) {
      if (source[key] == null) {
        throw new TypeError(`source.${key} is missing: give model, tokenizer and config (the folder's three files)`);
      }
    }
    const model = asBytes(source.model, "source.model");
    const detected = isOrtFormat(model) ? EXPORT_FILES.ortModel : EXPORT_FILES.model;
    return {
      model,
      modelFile: detected,
      tokenizer: asJson(source.tokenizer, FILES.tokenizer),
      config: asJson(source.config, FILES.config),
      where: { ...FILES, model: detected },
    };
  }
  if (typeof source !== "string" && !(source instanceof URL)) {
    throw new TypeError(`source must be a folder URL or path, or {model, tokenizer, config}; got ${typeof source}`);
  }
  const text = String(source);
  let read;
  if (isUrlLike(text) && !(source instanceof URL && source.protocol === "file:")) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    const base = new URL(text.endsWith("/") ? text : `${text}/`, globalThis.location?.href);
    read = (name, kind) => fetchFile(base, name, fetchImpl, kind);
  } else {
    read = (name, kind) => readPath(source, name, kind);
  }
  // Fetched in parallel; a failure is reported for the first file in this fixed order, whatever finished first.
  const settled = await Promise.allSettled([
    read(FILES.config, "text"),
    read(FILES.tokenizer, "text"),
    read(modelFile, "bytes"),
  ]);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  const [config, tokenizer, model] = settled.map((result) => result.value);
  return {
    model: model.value,
    modelFile,
    tokenizer: asJson(tokenizer.value, tokenizer.where),
    config: config.value,
    where: { model: model.where, tokenizer: tokenizer.where, config: config.where },
  };
}
