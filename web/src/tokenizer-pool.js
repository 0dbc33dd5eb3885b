/**
 * Tokenization on a pool of Web Workers (browsers), so that it runs on more than the page's one core and overlaps
 * with the graph: `encodeMatrix` sends chunks of texts to the workers round-robin and runs the graph on chunk k
 * while the workers tokenize the next ones. Each worker holds its own `TextTokenizer` (tokenize-worker.js), so
 * the ids are those of the page's tokenizer. Opt-in through `StaticOnnxModel.load(..., { tokenizerWorkers: N })`.
 */

/** Texts per message: large enough that postMessage costs little, small enough to pipeline with the graph. */
export const POOL_CHUNK = 512;

/** Below this many texts the page tokenizes itself: a round trip to a worker would cost more than it saves. */
export const POOL_MIN_TEXTS = 256;

/**
 * Check the `tokenizerWorkers` load option.
 *
 * @param {unknown} count
 * @returns {number} 0 (no pool) or the number of workers.
 */
export function checkTokenizerWorkers(count) {
  if (count === undefined || count === 0) return 0;
  if (!Number.isInteger(count) || /** @type {number} */ (count) < 0 || /** @type {number} */ (count) > 16) {
    throw new TypeError(`tokenizerWorkers must be an integer from 0 to 16, got ${JSON.stringify(count)}`);
  }
  // Node has no Web Workers of its own (some libraries install a look-alike global `Worker`).
  if (typeof globalThis.Worker !== "function" || globalThis.process?.versions?.node) {
    throw new TypeError("tokenizerWorkers needs Web Workers (browsers); leave it 0 in Node and React Native");
  }
  return /** @type {number} */ (count);
}

export class TokenizerPool {
  /**
   * Use `TokenizerPool.create`.
   *
   * @param {Worker[]} workers
   */
  constructor(workers) {
    this.workers = workers;
    this.next = 0;
    this.seq = 0;
    this.closed = false;
    /** @type {Map<number, {resolve: (value: any) => void, reject: (err: Error) => void}>} */
    this.pending = new Map();
    for (const worker of workers) {
      worker.onmessage = ({ data }) => {
        const call = this.pending.get(data.id);
        this.pending.delete(data.id);
        if (data.error) call?.reject(new Error(`tokenizer worker: ${data.error}`));
        else call?.resolve(data);
      };
      worker.onerror = (event) => {
        event.preventDefault();
        this.#failAll(new Error(`tokenizer worker failed to start or crashed: ${event.message || "no message"}`));
      };
    }
  }

  /**
   * Start `count` workers, each building the tokenizer.
   *
   * @param {number} count
   * @param {object | string | ArrayBuffer | ArrayBufferView} tokenizerJson tokenizer.json: its text or bytes as read
   *   (sent as they are; a view on part of a buffer as a copy of that part), or parsed (sent as JSON text).
   * @param {object} config the exported config.json.
   * @returns {Promise<TokenizerPool>}
   */
  static async create(count, tokenizerJson, config) {
    const workers = [];
    for (let i = 0; i < count; i++) {
      // Written out in full so that bundlers (vite, webpack 5, Next.js) find the worker and bundle its imports;
      // esbuild and rollup leave the URL as is: they bundle "m2v-edge/tokenize-worker.js" as an entry of that
      // name next to this chunk (docs/web.md, "Bundlers"; web/examples).
      workers.push(new Worker(new URL("./tokenize-worker.js", import.meta.url), { type: "module", name: `m2v-edge-tokenizer-${i}` }));
    }
    const pool = new TokenizerPool(workers);
    let tokenizer = tokenizerJson;
    if (ArrayBuffer.isView(tokenizerJson)) {
      const { buffer, byteOffset, byteLength } = tokenizerJson;
      tokenizer = new Uint8Array(buffer, byteOffset, byteLength);
      if (byteOffset !== 0 || byteLength !== buffer.byteLength) tokenizer = tokenizer.slice(); // else the whole buffer is cloned
    } else if (typeof tokenizerJson !== "string" && !(tokenizerJson instanceof ArrayBuffer)) {
      tokenizer = JSON.stringify(tokenizerJson);
    }
    try {
      await Promise.all(workers.map((worker) => pool.#call(worker, { type: "init", tokenizer, config })));
    } catch (err) {
      pool.terminate();
      throw err;
    }
    return pool;
  }

  /**
   * Token ids of `texts` (same rules as `TextTokenizer.encodeIds`), on the next worker.
   *
   * @param {string[]} texts
   * @param {number | null | undefined} maxLength
   * @returns {Promise<Int32Array[]>}
   */
  async encodeIds(texts, maxLength) {
    const worker = this.workers[this.next];
    this.next = (this.next + 1) % this.workers.length;
    const { flat, lengths } = await this.#call(worker, { type: "encode", texts, maxLength });
    const ids = [];
    let offset = 0;
    for (const length of lengths) {
      ids.push(flat.subarray(offset, offset + length));
      offset += length;
    }
    return ids;
  }

  /**
   * Split `texts` in chunks and queue them all on the workers: the promises resolve in any order, each with its
   * chunk's start index and ids.
   *
   * @param {string[]} texts
   * @param {number | null | undefined} maxLength
   * @returns {Promise<{start: number, ids: ArrayLike<number>[]}>[]}
   */
  chunks(texts, maxLength) {
    const out = [];
    for (let start = 0; start < texts.length; start += POOL_CHUNK) {
      const part = texts.slice(start, start + POOL_CHUNK);
      const chunk = this.encodeIds(part, maxLength).then((ids) => ({ start, ids }));
      chunk.catch(() => {}); // awaited in order by the caller; a later chunk failing first is not "unhandled"
      out.push(chunk);
    }
    return out;
  }

  /** Stop the workers; pending and later calls fail. */
  terminate() {
    this.closed = true;
    for (const worker of this.workers) worker.terminate();
    this.#failAll(new Error("tokenizer pool terminated"));
  }

  #failAll(err) {
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }

  #call(worker, message) {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(new Error("tokenizer pool terminated (the model was disposed)"));
        return;
      }
      const id = ++this.seq;
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }
}
