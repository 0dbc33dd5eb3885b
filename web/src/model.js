/**
 * `StaticOnnxModel`: an exported m2v-edge folder on onnxruntime-web (WASM), in browsers and Node.
 */
import * as ort from "onnxruntime-web";

import { parseConfig } from "./config.js";
import { ATTENTION_MASK, INPUT_IDS, OUTPUT } from "./contract.js";
import { isNode } from "./env.js";
import { rank } from "./similarity.js";
import { checkModelFile, readSource } from "./sources.js";
import { TextTokenizer, checkTexts } from "./tokenize.js";
import { checkMaxLength, checkTopK, validateExport } from "./validate.js";

let wasmSetup = null;

/**
 * Threads used when the caller does not say: several only when the page is cross-origin isolated
 * (SharedArrayBuffer available), else one. Node: one.
 */
export function defaultThreads() {
  if (isNode || !globalThis.crossOriginIsolated) return 1;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(cores, 4));
}

/**
 * Set onnxruntime-web's global WASM options; only the first call (before the first session) takes effect.
 *
 * @param {{wasmPaths?: string | object, threads?: number}} options
 * @returns {{wasmPaths: string | object | undefined, threads: number}} what is in force.
 */
export function configureWasm(options = {}) {
  if (wasmSetup !== null) return wasmSetup;
  const threads = options.threads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1) {
    throw new TypeError(`threads must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  wasmSetup = { wasmPaths: options.wasmPaths, threads };
  return wasmSetup;
}

function reason(err) {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] || "unknown error").slice(0, 300);
}

async function createSession(bytes, where, setup) {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  } catch (err) {
    const why = reason(err);
    if (/no available backend|WebAssembly|ort-wasm|\.wasm\b/i.test(why)) {
      const path = setup.wasmPaths === undefined ? "the default location" : JSON.stringify(setup.wasmPaths);
      throw new Error(
        `onnxruntime-web could not load its WebAssembly from ${path} (${why}); serve ` +
          "ort-wasm-simd-threaded.wasm and ort-wasm-simd-threaded.mjs there or pass the right `wasmPaths`",
        { cause: err },
      );
    }
    throw new Error(`${where}: onnxruntime-web cannot load it (${why}); re-export the model`, { cause: err });
  }
}

/** An exported folder, ready to encode texts: same tokens and vectors as Python's `StaticOnnxModel`. */
/** Rows per graph call: texts are sorted by token count first, and smaller calls pad less (as in Python). */
const MAX_GRAPH_ROWS = 128;

export class StaticOnnxModel {
  constructor(session, tokenizer, config, info) {
    this.session = session;
    this.tokenizer = tokenizer;
    this.config = config;
    this.info = info;
  }

  /**
   * Load an exported folder.
   *
   * @param {string | URL | {model: ArrayBuffer|Uint8Array, tokenizer: any, config: any}} source a folder URL
   *   (browser), a folder path (Node) or the three files.
   * @param {{wasmPaths?: string | object, threads?: number, fetch?: typeof fetch, modelFile?: string}} [options]
   *   `wasmPaths`: where onnxruntime-web's .wasm/.mjs files are served (a URL prefix ending in "/"); `threads`:
   *   WASM threads (the first load decides for the page); `fetch`: a custom fetch; `modelFile`: the graph to
   *   read from a folder, `model.onnx` (default) or `model.ort` (ORT format, `m2v-edge export --target mobile`).
   * @returns {Promise<StaticOnnxModel>}
   */
  static async load(source, options = {}) {
    const started = globalThis.performance?.now() ?? Date.now();
    checkModelFile(options.modelFile); // before configureWasm: a bad call must not fix the page's WASM setup
    const setup = configureWasm(options);
    const files = await readSource(source, options);
    const config = parseConfig(files.config, files.where.config);
    let tokenizer;
    try {
      tokenizer = new TextTokenizer(files.tokenizer, config);
    } catch (err) {
      throw new Error(`${files.where.tokenizer}: unreadable tokenizer (${reason(err)}); re-export the model`, {
        cause: err,
      });
    }
    const session = await createSession(files.model, files.where.model, setup);
    await validateExport({ config, tokenizerJson: files.tokenizer, session, ort, where: files.where.model });
    const loadMs = (globalThis.performance?.now() ?? Date.now()) - started;
    return new StaticOnnxModel(session, tokenizer, config, {
      threads: setup.threads,
      modelFile: files.modelFile,
      modelBytes: files.model.byteLength,
      loadMs,
    });
  }

  /** Embedding width. */
  get dim() {
    return Number(this.config.dim);
  }

  /** Whether the graph L2-normalizes its output. */
  get normalize() {
    return Boolean(this.config.normalize);
  }

  /**
   * Encode texts to one flat float32 matrix.
   *
   * @param {string | string[]} texts
   * @param {{batchSize?: number, maxLength?: number | null}} [options] `batchSize`: at most this many texts per
   *   graph call (never more than 128, measured fastest); `maxLength`: token limit, default the model's, `null`
   *   for none.
   * @returns {Promise<{data: Float32Array, rows: number, dim: number}>}
   */
  async encodeMatrix(texts, options = {}) {
    const { items } = checkTexts(texts);
    checkMaxLength(options.maxLength);
    const batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TypeError(`batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
    }
    const dim = this.dim;
    const data = new Float32Array(items.length * dim);
    const ids = items.map((text) => this.tokenizer.encodeIds(text, options.maxLength));
    const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length || a - b);
    const step = Math.min(batchSize, MAX_GRAPH_ROWS);
    for (let start = 0; start < order.length; start += step) {
      const positions = order.slice(start, start + step);
      const output = await this.#run(positions.map((p) => ids[p]));
      positions.forEach((p, row) => data.set(output.subarray(row * dim, (row + 1) * dim), p * dim));
    }
    return { data, rows: items.length, dim };
  }

  /**
   * Encode texts, like Python's `StaticOnnxModel.encode`.
   *
   * @param {string | string[]} texts a string gives one Float32Array, an array gives one per text.
   * @param {{batchSize?: number, maxLength?: number | null}} [options]
   * @returns {Promise<Float32Array | Float32Array[]>}
   */
  async encode(texts, options = {}) {
    const { single } = checkTexts(texts);
    const { data, rows, dim } = await this.encodeMatrix(texts, options);
    const vectors = [];
    for (let r = 0; r < rows; r++) vectors.push(data.slice(r * dim, (r + 1) * dim));
    return single ? vectors[0] : vectors;
  }

  /**
   * Rank `documents` by cosine to `query`, best first.
   *
   * @param {string} query
   * @param {string[]} documents
   * @param {number | null} [topK]
   * @returns {Promise<{index: number, score: number, document: string}[]>}
   */
  async search(query, documents, topK = null) {
    if (typeof query !== "string") {
      throw new TypeError(`query must be a string, got ${query === null ? "null" : typeof query}`);
    }
    const { items } = checkTexts(documents);
    checkTopK(topK);
    if (items.length === 0) return [];
    const vectors = await this.encode([query, ...items]);
    return rank(vectors[0], vectors.slice(1), items, topK);
  }

  /** Free the WASM session. */
  async dispose() {
    await this.session.release();
  }

  async #run(rows) {
    const width = Math.max(1, ...rows.map((r) => r.length));
    const count = rows.length * width;
    const idBuffer = new BigInt64Array(count);
    const maskBuffer = new BigInt64Array(count);
    // Little-endian 32-bit views: ids are small non-negative ints, so the high words stay 0.
    const idWords = new Int32Array(idBuffer.buffer);
    const maskWords = new Int32Array(maskBuffer.buffer);
    const pad = this.tokenizer.padTokenId;
    rows.forEach((row, r) => {
      const base = r * width;
      for (let t = 0; t < width; t++) {
        const k = 2 * (base + t);
        if (t < row.length) {
          idWords[k] = row[t];
          maskWords[k] = 1;
        } else {
          idWords[k] = pad;
        }
      }
    });
    const feeds = {};
    const names = this.session.inputNames;
    if (names.includes(INPUT_IDS)) feeds[INPUT_IDS] = new ort.Tensor("int64", idBuffer, [rows.length, width]);
    if (names.includes(ATTENTION_MASK)) {
      feeds[ATTENTION_MASK] = new ort.Tensor("int64", maskBuffer, [rows.length, width]);
    }
    const results = await this.session.run(feeds);
    const name = this.config.output ?? OUTPUT;
    const tensor = results[name] ?? results[this.session.outputNames[0]];
    return tensor.data;
  }
}
