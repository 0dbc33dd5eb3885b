/**
 * Where the files of an exported folder come from: a folder URL (fetch, optionally the Cache API), a folder
 * path (Node, through the entry point's reader), a custom `loadFile` (React Native: files from the app
 * bundle), or the files themselves (ArrayBuffer / Uint8Array / string / parsed object).
 */
import { FILES, MODEL_FILES, checkModelFile, folderFiles, notJson, parseConfig } from "./config.js";
import { FILES as EXPORT_FILES } from "./contract.js";
import { getPlatform } from "./backend.js";
import { cachedFetcher } from "./cache.js";

export { FILES, MODEL_FILES, checkModelFile };

/** True for ORT-format bytes (flatbuffer file identifier "ORTM" at offset 4), false for ONNX protobuf. */
export function isOrtFormat(bytes) {
  return bytes.length >= 8 && String.fromCharCode(bytes[4], bytes[5], bytes[6], bytes[7]) === "ORTM";
}

/**
 * Free the memory behind `bytes` now rather than at some later garbage collection: for a buffer the loader read
 * itself and no longer needs (the graph's bytes once the pooling kernel holds its own copy of the table; 149 MB
 * for a Qwen-sized model, otherwise alive beside that copy and the tokenizer while V8 waits to collect it). The
 * buffer is detached: `ArrayBuffer.prototype.transfer` where it exists (browsers, Node >= 22), else transferred to
 * a message that is never delivered, its port closed: Node frees the message with the port and then fires the
 * port's "close" event, which is awaited (measured, Node 20: the memory is back when it fires, not one task later).
 * Nothing happens for a view on part of a buffer (it may share it with others) or where neither exists (then the
 * garbage collector frees it).
 *
 * @param {Uint8Array} bytes
 * @returns {Promise<void>}
 */
export async function releaseBytes(bytes) {
  const { buffer } = bytes;
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return;
  if (typeof buffer.transfer === "function") {
    buffer.transfer(0);
    return;
  }
  if (typeof MessageChannel !== "function") return;
  const { port1, port2 } = new MessageChannel();
  const closed = typeof port2.once === "function" ? new Promise((resolve) => port2.once("close", resolve)) : null;
  port1.postMessage(null, [buffer]);
  port2.close();
  port1.close();
  await closed;
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
    throw notJson(name, err);
  }
}

/**
 * Read a response body, calling `progress` as chunks arrive (total from Content-Length, else null). The chunks go
 * into one buffer of the announced size as they arrive: the chunks and their joined copy (what `arrayBuffer()`
 * does too) would hold the file twice (Qwen-sized graph in Node over HTTP: peak RSS 689 MB, measured). A body
 * longer than announced (a compressed transfer) or of unknown size is gathered in chunks and joined.
 */
async function readBody(response, file, progress, into) {
  const header = Number(response.headers.get("content-length"));
  const total = Number.isFinite(header) && header > 0 ? header : null;
  const buffer = (size) => into?.(size) ?? new Uint8Array(size);
  // what arrived so far, when the body turns out longer than announced: a copy if `into` gave the buffer (it gives
  // one region, which the buffer for the whole body replaces)
  const part = (whole, length) => (into ? whole.slice(0, length) : whole.subarray(0, length));
  if (!response.body) {
    const body = new Uint8Array(await response.arrayBuffer());
    progress?.({ file, loaded: body.byteLength, total: body.byteLength });
    if (!into) return body;
    const bytes = buffer(body.byteLength);
    bytes.set(body);
    return bytes;
  }
  const reader = response.body.getReader();
  let whole = total === null ? null : buffer(total);
  const chunks = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (whole !== null && loaded + value.byteLength <= whole.byteLength) whole.set(value, loaded);
    else {
      if (whole !== null) chunks.push(part(whole, loaded));
      whole = null;
      chunks.push(value);
    }
    loaded += value.byteLength;
    progress?.({ file, loaded, total });
  }
  if (total !== loaded) progress?.({ file, loaded, total: loaded });
  if (whole !== null && loaded === whole.byteLength) return whole;
  if (whole !== null) chunks.push(part(whole, loaded));
  const bytes = buffer(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

function fetchReader(base, options) {
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const getResponse = cachedFetcher(options.cache, fetchImpl);
  const read = async (name, kind, progress, into) => {
    const url = new URL(name, base).href;
    if (!url.startsWith(base.href)) throw new Error(`${url}: outside the model folder ${base.href}; re-export the model`);
    let response;
    try {
      response = await getResponse(url, kind === "config");
    } catch (err) {
      throw new Error(`${url}: cannot fetch it (${err.message}); serve the exported folder's ${name} there`, {
        cause: err,
      });
    }
    if (!response.ok) {
      const hint = name === EXPORT_FILES.ortModel ? " (written by `m2v-edge export --target mobile`)" : "";
      throw new Error(`${url}: HTTP ${response.status}; serve the exported folder's ${name}${hint} there`);
    }
    const cached = getResponse.hits.includes(url);
    if (kind === "bytes") return { where: url, cached, value: await readBody(response, name, progress, into) };
    if (kind === "json") return { where: url, cached, value: await readBody(response, name) };
    return { where: url, cached, value: await response.text() };
  };
  return Object.assign(read, { flush: getResponse.flush });
}

function loadFileReader(folder, loadFile) {
  const prefix = folder === "" || folder.endsWith("/") ? folder : `${folder}/`;
  return async (name, kind, progress) => {
    const path = `${prefix}${name}`;
    let value;
    try {
      value = await loadFile(path, name);
    } catch (err) {
      throw new Error(`${path}: loadFile failed (${err?.message ?? err}); bundle the exported folder's ${name}`, {
        cause: err,
      });
    }
    if (kind === "json") return { where: path, value: typeof value === "string" ? value : asBytes(value, path) };
    if (kind !== "bytes") return { where: path, value: asText(value, path) };
    value = asBytes(value, path);
    progress?.({ file: name, loaded: value.byteLength, total: value.byteLength });
    return { where: path, value };
  };
}

function isHttpLike(text) {
  return /^(https?|blob|data):/i.test(text);
}

/**
 * How to read one file of the folder `source`: (name, kind, progress, into) => Promise<{where, value}>. `kind`:
 * "bytes" (a Uint8Array), "json" (its bytes, or the text `loadFile` gave) or text ("config": the Cache API reads it
 * afresh); `into` (bytes read from a URL or path, not from `loadFile`): where to read them, as `readSource`'s.
 */
function readerFor(source, options) {
  const text = String(source);
  if (options.loadFile !== undefined) {
    if (typeof options.loadFile !== "function") throw new TypeError("loadFile must be a function (path, name) => bytes or text");
    return loadFileReader(text, options.loadFile);
  }
  const { readPath } = getPlatform();
  const isFileUrl = source instanceof URL ? source.protocol === "file:" : /^file:/i.test(text);
  if (readPath !== null && (isFileUrl || !isHttpLike(text))) {
    return async (name, kind, progress, into) => {
      const read = await readPath(source, name, kind === "json" ? "bytes" : kind, into);
      if (kind === "bytes") progress?.({ file: name, loaded: read.value.byteLength, total: read.value.byteLength });
      return read;
    };
  }
  const base = new URL(text.endsWith("/") ? text : `${text}/`, globalThis.location?.href);
  return fetchReader(base, options);
}

/**
 * Get the folder's files: config.json first (it decides which graph file to read), then the tokenizer and
 * the graph in parallel.
 *
 * @param {string | URL | {model: ArrayBuffer|Uint8Array, tokenizer: any, config: any}} source
 * @param {{fetch?: typeof fetch, modelFile?: string, loadFile?: Function, cache?: boolean | string,
 *   progress?: Function}} [options]
 * @param {{into?: (size: number, config: object) => Uint8Array | null, tokenizer?: (json: object, config: object) => any}} [hooks]
 *   for a folder read from a path or URL: `into`, the buffer to read a graph of `size` bytes into, given the parsed
 *   config.json (null: a new one; model.js gives the pooling kernel's memory); `tokenizer`, called with the parsed
 *   tokenizer.json as soon as it is read, while the graph may still be arriving (model.js builds the tokenizer):
 *   its result is `built`.
 * @returns {Promise<{model: Uint8Array, modelFile: string, fromCache: boolean, tokenizer: object,
 *   tokenizerText: string | Uint8Array | null, config: object|string, where: object, ownsModel: boolean, built?: any}>}
 *   `tokenizerText`: as read (null when given parsed), for its checksum; `ownsModel`: the graph's bytes were read
 *   here (a path or URL), not given by the caller (the files, `loadFile`), so `releaseBytes` may free them.
 */
export async function readSource(source, options = {}, hooks = {}) {
  checkModelFile(options.modelFile);
  if (options.progress !== undefined && typeof options.progress !== "function") {
    throw new TypeError("progress must be a function ({file, loaded, total}) => void");
  }
  if (source !== null && typeof source === "object" && !(source instanceof URL)) {
    for (const key of Object.keys(FILES)) {
      if (source[key] == null) {
        throw new TypeError(`source.${key} is missing: give model, tokenizer and config (the folder's three files)`);
      }
    }
    const model = asBytes(source.model, "source.model");
    const detected = isOrtFormat(model) ? MODEL_FILES[1] : MODEL_FILES[0];
    options.progress?.({ file: detected, loaded: model.byteLength, total: model.byteLength });
    const rawTokenizer = typeof source.tokenizer === "string" || source.tokenizer instanceof ArrayBuffer || ArrayBuffer.isView(source.tokenizer);
    return {
      model,
      modelFile: detected,
      tokenizer: asJson(source.tokenizer, FILES.tokenizer),
      tokenizerText: rawTokenizer ? source.tokenizer : null,
      config: asJson(source.config, FILES.config),
      where: { ...FILES, model: detected },
      ownsModel: false,
    };
  }
  if (typeof source !== "string" && !(source instanceof URL)) {
    throw new TypeError(`source must be a folder URL or path, or {model, tokenizer, config}; got ${typeof source}`);
  }
  const read = readerFor(source, options);
  const config = await read(FILES.config, "config");
  // A broken config.json is reported as such (parseConfig), not as a missing graph.
  const parsed = parseConfig(config.value, config.where);
  const names = folderFiles(parsed, options, config.where);
  const { into } = hooks;
  const graphInto = into && ((/** @type {number} */ size) => into(size, parsed));
  const tokenizerRead = read(names.tokenizer, "json").then((got) => {
    const json = asJson(got.value, got.where);
    return { ...got, json, built: hooks.tokenizer?.(json, parsed) };
  });
  // In parallel; a failure is reported for the tokenizer first, whatever finished first.
  const settled = await Promise.allSettled([tokenizerRead, read(names.model, "bytes", options.progress, graphInto)]);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed) throw failed.reason;
  const [tokenizer, model] = settled.map((result) => result.value);
  await read.flush?.();
  return {
    model: model.value,
    modelFile: names.model,
    fromCache: model.cached === true,
    tokenizer: tokenizer.json,
    tokenizerText: tokenizer.value,
    built: tokenizer.built,
    config: config.value,
    where: { model: model.where, tokenizer: tokenizer.where, config: config.where },
    ownsModel: options.loadFile === undefined,
  };
}
