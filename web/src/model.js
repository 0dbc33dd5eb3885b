/**
 * `StaticOnnxModel`: an exported m2v-edge folder, in browsers, Node and React Native: int8 graphs on the package's
 * pooling kernel (src/kernel.js) by default, others on ONNX Runtime (onnxruntime-web's WASM by default; any
 * module with the onnxruntime-common API through `{ ort }`).
 */
import { checkThreads, createSession, reason, resolveBackend, runOptions } from "./backend.js";
import { checkGraphConfig, verifyFiles } from "./checksum.js";
import { modelFilePath, parseConfig } from "./config.js";
import { ATTENTION_MASK, FILES, INPUT_IDS, MAX_GRAPH_ROWS, OUTPUT, PAD_MIN_STEP, PAD_STEP_BITS } from "./contract.js";
import { KernelMemory, KernelSession, KernelTensor } from "./kernel.js";
import { CorruptOnnx } from "./onnx-proto.js";
import { rank } from "./similarity.js";
import { checkModelFile, isOrtFormat, readSource, releaseBytes } from "./sources.js";
import { TextTokenizer, checkTexts } from "./tokenize.js";
import { POOL_MIN_TEXTS, TokenizerPool, checkTokenizerWorkers } from "./tokenizer-pool.js";
import { checkFinite, checkMaxLength, checkTopK, validateExport } from "./validate.js";

export { configureWasm, defaultThreads } from "./backend.js";


/**
 * The sequence width a text of `count` tokens always runs at (Python: `m2v_edge.runtime.batching.padded_width`):
 * `count` rounded up to a step of 4 up to 64 tokens, then the power of two within 1/8 of `count` (constants from
 * the generated contract).
 *
 * @param {number} count
 * @returns {number}
 */
export function paddedWidth(count) {
  const n = Math.max(count, 1);
  const step = Math.max(PAD_MIN_STEP, 2 ** Math.max(0, 32 - Math.clz32(n - 1) - PAD_STEP_BITS));
  return Math.ceil(n / step) * step;
}

/**
 * @typedef {object} ModelFiles the three files of an exported folder, already in memory.
 * @property {ArrayBuffer | Uint8Array} model model.onnx or model.ort bytes (format detected).
 * @property {string | ArrayBuffer | Uint8Array | object} tokenizer tokenizer.json (text, bytes or parsed).
 * @property {string | ArrayBuffer | Uint8Array | object} config config.json (text, bytes or parsed).
 */

/**
 * @typedef {object} LoadProgress
 * @property {string} file the graph file being read (`model.onnx` or `model.ort`).
 * @property {number} loaded bytes read so far.
 * @property {number | null} total the file's size when known (Content-Length), else null.
 */

/**
 * @typedef {object} LoadOptions
 * @property {any} [ort] an ONNX Runtime module (`import * as ort from "onnxruntime-node"`, onnxruntime-react-native,
 *   onnxruntime-web), which then runs the graph; default: the pooling kernel, else onnxruntime-web's WASM build (none in
 *   `m2v-edge/core`).
 * @property {string | Record<string, string>} [wasmPaths] onnxruntime-web only: where its .wasm/.mjs files are
 *   served (a URL prefix ending in "/").
 * @property {number} [threads] ONNX Runtime only: WASM threads (the first load decides for the page) or native
 *   intra-op threads (default 1). The pooling kernel runs on the calling thread.
 * @property {Record<string, any>} [sessionOptions] merged into the `InferenceSession.create` options
 *   (e.g. `executionProviders`).
 * @property {typeof fetch} [fetch] a custom fetch for folder URLs.
 * @property {(path: string, name: string) => Promise<ArrayBuffer | Uint8Array | string> | ArrayBuffer | Uint8Array | string} [loadFile]
 *   reads `path` (the folder joined with `name`, one of the folder's files) itself: React Native bundles, custom
 *   storage. `source` is then the folder name it receives.
 * @property {(event: LoadProgress) => void} [progress] called as the graph's bytes arrive.
 * @property {boolean | string} [cache] browsers: keep the fetched files in the Cache API (`true`: cache
 *   "m2v-edge", or a cache name), so the next page load does not download them again.
 * @property {string} [modelFile] the graph to read from a folder: `model.onnx` (default) or `model.ort`
 *   (ORT format, `m2v-edge export --target mobile`).
 * @property {number} [tokenizerWorkers] browsers: tokenize large inputs (256 texts or more) on this many Web
 *   Workers, in parallel with the graph (default 0: on the calling thread); see docs/web.md for when it pays.
 * @property {"auto" | "kernel" | "onnxruntime"} [engine] what runs the graph. `auto` (default): the pooling
 *   kernel (WebAssembly SIMD, no ONNX Runtime download) when the graph is an int8 export it reproduces and
 *   neither `ort` nor `sessionOptions` is given, else ONNX Runtime; `kernel`: the kernel or an error saying why
 *   not; `onnxruntime`: always ORT.
 */

/**
 * @typedef {object} LoadInfo
 * @property {string} backend `m2v-edge-kernel` (the pooling kernel), `onnxruntime-web`, `onnxruntime-node`,
 *   `onnxruntime-react-native` or `custom`.
 * @property {string | null} kernelSkipped why the pooling kernel does not run this model (null when it does, or
 *   when ONNX Runtime was asked for).
 * @property {number} threads
 * @property {string} modelFile
 * @property {number} modelBytes
 * @property {boolean} fromCache whether the graph came from the Cache API.
 * @property {number} loadMs
 */

const ENGINES = ["auto", "kernel", "onnxruntime"];

/** @param {unknown} engine @returns {string} */
function checkEngine(engine = "auto") {
  if (!ENGINES.includes(/** @type {string} */ (engine))) {
    throw new TypeError(`engine must be one of ${JSON.stringify(ENGINES)}, got ${JSON.stringify(engine)}`);
  }
  return /** @type {string} */ (engine);
}

/**
 * The pooling kernel for a graph's bytes: `{session, reason}` as `KernelSession.create`, or `{error}` for a corrupt
 * file (thrown by `load` once the tokenizer was checked, so a broken tokenizer is still reported first).
 *
 * @param {Uint8Array} bytes
 * @param {string} where the graph's path or URL.
 * @param {KernelMemory | null} memory the memory `bytes` were read into, if they were.
 * @returns {Promise<{session?: KernelSession | null, reason?: string | null, error?: Error}>}
 */
async function tryKernel(bytes, where, memory) {
  if (isOrtFormat(bytes)) return { session: null, reason: "the graph is in ORT format" };
  try {
    return await KernelSession.create(bytes, memory);
  } catch (err) {
    return { error: err instanceof CorruptOnnx ? new Error(`${where}: ${err.message}; the file is corrupt or truncated, re-export the model`) : err };
  }
}

/** An exported folder, ready to encode texts: same tokens and vectors as Python's `StaticOnnxModel`. */
export class StaticOnnxModel {
  /**
   * Use `StaticOnnxModel.load`.
   *
   * @param {any} session an ORT `InferenceSession`.
   * @param {TextTokenizer} tokenizer
   * @param {any} config the parsed config.json.
   * @param {LoadInfo} info
   * @param {any} [ort] the ORT module (for `Tensor`).
   */
  constructor(session, tokenizer, config, info, ort) {
    this.session = session;
    this.tokenizer = tokenizer;
    this.config = config;
    this.info = info;
    this.ort = ort;
    /** @type {TokenizerPool | null} the `tokenizerWorkers` pool, if any. */
    this.pool = null;
  }

  /**
   * Load an exported folder.
   *
   * @param {string | URL | ModelFiles} source a folder URL (browser), a folder path (Node), a folder name given
   *   to `loadFile`, or the three files.
   * @param {LoadOptions} [options]
   * @returns {Promise<StaticOnnxModel>}
   */
  static async load(source, options = {}) {
    const started = globalThis.performance?.now() ?? Date.now();
    checkModelFile(options.modelFile); // before the backend: a bad call must not fix the page's WASM setup
    const workers = checkTokenizerWorkers(options.tokenizerWorkers);
    const engine = checkEngine(options.engine);
    if (options.threads !== undefined) checkThreads(options.threads);
    // Asking for ORT (`ort`, `sessionOptions`) is honoured and checked before any file is read; otherwise ORT is
    // loaded only if the kernel cannot run the graph.
    const wantsOrt = engine === "onnxruntime" || (engine === "auto" && (options.ort != null || options.sessionOptions != null));
    let backend = wantsOrt ? await resolveBackend(options) : null;
    // Unless ORT was asked for, a graph read from a path or URL goes straight into the pooling kernel's memory,
    // which pools from the table where it lies: the file is the only copy of the table (rows of whole 16-column
    // blocks, kernel.js).
    const memory = backend === null && engine !== "onnxruntime" ? await KernelMemory.create() : null;
    const kernelGraph = (config) => Number(config.dim) % 16 === 0 && options.modelFile !== FILES.ortModel;
    const into = memory && ((size, config) => (kernelGraph(config) ? memory.alloc(size) : null));
    /** The tokenizer or its error (reported once the files' checksums are checked). */
    const build = (json, config) => {
      try {
        return { tokenizer: new TextTokenizer(json, config) };
      } catch (err) {
        return { error: err };
      }
    };
    // The tokenizer is built as soon as tokenizer.json is read, while the graph may still be arriving.
    const files = await readSource(source, options, { into: into ?? undefined, tokenizer: build });
    const config = parseConfig(files.config, files.where.config);
    const graphName = typeof source === "object" && !(source instanceof URL) ? modelFilePath(config, files.modelFile) : files.modelFile;
    // The hashes start here, on the bytes as read (the kernel's memory may grow and detach them below): node:crypto
    // and Chromium hash on the spot, other engines may go on while WebCrypto hashes. They are awaited before any
    // other error is reported: a changed file is named as such, whatever else is wrong with it.
    const verified = verifyFiles(config, files.where.config, [
      { name: graphName, where: files.where.model, bytes: files.model },
      { name: FILES.tokenizer, where: files.where.tokenizer, bytes: files.tokenizerText ?? null },
    ]);
    verified.catch(() => {}); // awaited below
    const modelBytes = files.model.byteLength;
    // A table the kernel copies into its own memory (bytes not read into it: given as bytes, or odd widths) is the
    // peak with the graph's bytes, freed here, before a tokenizer not built yet is built.
    const inKernel = memory?.holds(files.model) === true; // asked before the kernel grows (and detaches) them
    const kernel = backend === null ? await tryKernel(files.model, files.where.model, memory) : null;
    if (kernel?.session) {
      if (files.ownsModel && !inKernel) await releaseBytes(files.model);
      files.model = null;
    }
    const built = files.built ?? build(files.tokenizer, config);
    await verified;
    if (built.error) {
      throw new Error(`${files.where.tokenizer}: unreadable tokenizer (${reason(built.error)}); re-export the model`, {
        cause: built.error,
      });
    }
    const { tokenizer } = built;
    if (kernel?.error) throw kernel.error; // after the tokenizer's error, as when the kernel was made after it
    // the file as read, not the parsed object serialized again (Qwen: 6 MB of JSON.stringify on the page)
    const pooled = workers ? TokenizerPool.create(workers, files.tokenizerText ?? files.tokenizer, config) : null;
    let kernelSkipped = null;
    let session = null;
    if (kernel !== null) {
      ({ session, reason: kernelSkipped } = kernel);
      if (session === null && engine === "kernel") {
        pooled?.then((pool) => pool.terminate());
        throw new Error(`${files.where.model}: the pooling kernel cannot run it: ${kernelSkipped}; use engine "onnxruntime"`);
      }
      backend = session ? { name: "m2v-edge-kernel", threads: 1, ort: { Tensor: KernelTensor } } : null;
      if (backend === null) {
        try {
          backend = await resolveBackend(options);
        } catch (err) {
          pooled?.then((pool) => pool.terminate());
          throw new Error(`${files.where.model}: the pooling kernel cannot run it (${kernelSkipped}), so ONNX Runtime must: ${reason(err)}`, { cause: err });
        }
      }
    }
    const [made, pool] = await Promise.all([session ?? createSession(backend, files.model, files.where.model), pooled]);
    session = made;
    checkGraphConfig(config, session.metadata, files.where.model);
    await validateExport({ config, tokenizerJson: files.tokenizer, vocabIds: tokenizer.vocabIds, session, ort: backend.ort, where: files.where.model });
    const loadMs = (globalThis.performance?.now() ?? Date.now()) - started;
    const info = {
      backend: backend.name,
      kernelSkipped,
      threads: backend.threads,
      modelFile: files.modelFile,
      modelBytes,
      fromCache: files.fromCache,
      loadMs,
    };
    const model = new StaticOnnxModel(session, tokenizer, config, info, backend.ort);
    model.pool = pool;
    return model;
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
    // With a pool, the graph runs on each chunk as soon as its ids arrive, while the workers tokenize the next.
    const chunks =
      this.pool && items.length >= POOL_MIN_TEXTS
        ? this.pool.chunks(items, options.maxLength)
        : [{ start: 0, ids: items.map((text) => this.tokenizer.encodeIds(text, options.maxLength)) }];
    const step = Math.min(batchSize, MAX_GRAPH_ROWS);
    for (const chunk of chunks) {
      const { start: first, ids } = await chunk;
      const order = ids.map((_, i) => i).sort((a, b) => ids[a].length - ids[b].length || a - b);
      // Each text at the width its own token count gives, and only texts of one width in a call: a text's
      // vector never depends on its batch (ONNX Runtime's MatMul sums in an order set by the width).
      for (let start = 0; start < order.length; ) {
        const width = paddedWidth(ids[order[start]].length);
        let stop = start + 1;
        while (stop < order.length && stop - start < step && paddedWidth(ids[order[stop]].length) === width) stop++;
        const positions = order.slice(start, stop);
        start = stop;
        const output = await this.#run(positions.map((p) => ids[p]), width);
        positions.forEach((p, row) => data.set(output.subarray(row * dim, (row + 1) * dim), (first + p) * dim));
      }
    }
    return { data, rows: items.length, dim };
  }

  /**
   * Encode texts, like Python's `StaticOnnxModel.encode`.
   *
   * @param {string | string[]} texts a string gives one Float32Array, an array gives one per text (views on one
   *   shared buffer, like the rows of Python's matrix; copy one with `.slice()` to keep it alone).
   * @param {{batchSize?: number, maxLength?: number | null}} [options]
   * @returns {Promise<Float32Array | Float32Array[]>}
   */
  async encode(texts, options = {}) {
    const { single } = checkTexts(texts);
    const { data, rows, dim } = await this.encodeMatrix(texts, options);
    const vectors = [];
    // Views on the one matrix, not copies: 2,758 x 1024-d copies cost ~8 ms of a 100 ms encode in Chromium.
    for (let r = 0; r < rows; r++) vectors.push(data.subarray(r * dim, (r + 1) * dim));
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

  /** Free the ORT session. */
  async dispose() {
    this.pool?.terminate();
    await this.session.release();
  }

  async #run(rows, width) {
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
    if (names.includes(INPUT_IDS)) feeds[INPUT_IDS] = new this.ort.Tensor("int64", idBuffer, [rows.length, width]);
    if (names.includes(ATTENTION_MASK)) {
      feeds[ATTENTION_MASK] = new this.ort.Tensor("int64", maskBuffer, [rows.length, width]);
    }
    const name = this.config.output ?? OUTPUT;
    // Only the vectors: a pipeline_output export's last_hidden_state is not copied out (docs/web.md).
    const fetches = this.session.outputNames.includes(name) ? [name] : this.session.outputNames.slice(0, 1);
    const tensor = (await this.session.run(feeds, fetches, runOptions()))[fetches[0]];
    checkFinite(tensor.data, this.info?.modelFile ?? FILES.model);
    return tensor.data;
  }
}
