/**
 * The `.m2vec` vector file for apps (written by `m2v-edge encode --output X.m2vec`): read it and search it
 * by brute force (batched dot products, cosine, top-k). Layout in docs/scale.md; the Python side is
 * src/m2v_edge/corpus/vectorfile.py.
 *
 *   const config = await (await fetch("/models/potion-int8/config.json")).arrayBuffer();
 *   const file = await VectorFile.fromBuffer(await (await fetch("/docs.m2vec")).arrayBuffer(), { config });
 *   const [hits] = file.search([queryVector], 10);   // [{ index, score }], best first
 */

import { COSINE_NORM_FLOOR, VECTOR_FILE } from "./contract.js";
import { checkFiniteQuery } from "./validate.js";

// The layout is generated from Python's contract.py (contract.js): header fields at their offsets, dtype codes.
const { magic: MAGIC, headerSize: HEADER_SIZE, offsets: AT, scaleAlign: SCALE_ALIGN } = VECTOR_FILE;
const DTYPES = Object.fromEntries(Object.entries(VECTOR_FILE.dtypeCodes).map(([name, code]) => [code, name]));

/**
 * sha256 of an export's config.json bytes, as lowercase hex (the fingerprint in a vector file's header).
 * @param {ArrayBuffer | ArrayBufferView | string} config
 * @returns {Promise<string>}
 */
export async function modelFingerprint(config) {
  const bytes = typeof config === "string" ? new TextEncoder().encode(config) : toBytes(config);
  const digest = await globalThis.crypto.subtle.digest("SHA-256", bytes);
  return hex(new Uint8Array(digest));
}

/** @param {ArrayBuffer | ArrayBufferView} data @returns {Uint8Array} */
function toBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  throw new TypeError("expected an ArrayBuffer or a typed array");
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** IEEE 754 half to float (Float16Array is not in Node 20). */
function halfToFloat(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export class VectorFile {
  /**
   * Parse a `.m2vec` file. With `options.config` (the export's config.json bytes or text) or
   * `options.fingerprint` (hex), vectors made by another model are refused.
   * @param {ArrayBuffer | ArrayBufferView} buffer
   * @param {{ config?: ArrayBuffer | ArrayBufferView | string, fingerprint?: string }} [options]
   * @returns {Promise<VectorFile>}
   */
  static async fromBuffer(buffer, options = {}) {
    let expected = options.fingerprint ?? null;
    if (options.config !== undefined) expected = await modelFingerprint(options.config);
    return new VectorFile(toBytes(buffer), expected);
  }

  /** @param {Uint8Array} bytes @param {string | null} [expectedFingerprint] */
  constructor(bytes, expectedFingerprint = null) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = String.fromCharCode(...bytes.subarray(AT.magic, AT.magic + MAGIC.length));
    if (bytes.byteLength < HEADER_SIZE || magic !== MAGIC) {
      throw new Error("not an m2v-edge vector file; write one with `m2v-edge encode --output X.m2vec`");
    }
    const version = view.getUint16(AT.version, true);
    if (version > VECTOR_FILE.version) throw new Error(`vector file version ${version} is newer than this package; upgrade m2v-edge`);
    this.dtype = DTYPES[view.getUint16(AT.dtype, true)];
    if (!this.dtype) throw new Error("unknown vector dtype code; the file is corrupt");
    this.dim = view.getUint32(AT.dim, true);
    this.count = Number(view.getBigUint64(AT.count, true));
    this.fingerprint = hex(bytes.subarray(AT.fingerprint, AT.fingerprint + VECTOR_FILE.fingerprintBytes));
    if (expectedFingerprint !== null && expectedFingerprint !== this.fingerprint) {
      throw new Error(
        `vectors were made by another model (fingerprint ${this.fingerprint.slice(0, 12)}, this model ` +
          `${expectedFingerprint.slice(0, 12)}); encode the corpus again with this model`,
      );
    }
    const cells = this.dim * this.count;
    if (this.dtype === "int8") {
      const scalesAt = Math.ceil((HEADER_SIZE + cells) / SCALE_ALIGN) * SCALE_ALIGN;
      checkSize(bytes.byteLength, scalesAt + 4 * this.count, this.count);
      this.rows = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER_SIZE, cells);
      this.scales = readFloat32(bytes, scalesAt, this.count);
    } else {
      checkSize(bytes.byteLength, HEADER_SIZE + 2 * cells, this.count);
      const halves = new DataView(bytes.buffer, bytes.byteOffset + HEADER_SIZE, 2 * cells);
      this.rows = new Float32Array(cells);
      for (let i = 0; i < cells; i++) this.rows[i] = halfToFloat(halves.getUint16(2 * i, true));
      this.scales = null;
    }
    this.norms = null;
  }

  /** Row `i` as float32 (int8 rows times their scale). @param {number} i @returns {Float32Array} */
  vector(i) {
    const out = new Float32Array(this.dim);
    const scale = this.scales ? this.scales[i] : 1;
    for (let j = 0, at = i * this.dim; j < this.dim; j++) out[j] = this.rows[at + j] * scale;
    return out;
  }

  /** Stored norms, computed once (cosine needs them; int8 rows' norms include their scale). */
  rowNorms() {
    if (this.norms === null) {
      this.norms = new Float64Array(this.count);
      for (let i = 0; i < this.count; i++) {
        let sum = 0;
        for (let j = 0, at = i * this.dim; j < this.dim; j++) sum += this.rows[at + j] * this.rows[at + j];
        this.norms[i] = Math.sqrt(sum) * (this.scales ? Math.abs(this.scales[i]) : 1);
      }
    }
    return this.norms;
  }

  /**
   * Cosine top-k for each query (arrays of `dim` numbers), best first, ties by lower row: one pass over
   * the rows, each row dotted with every query (a batch of dot products per row).
   * @param {ArrayLike<number>[]} queries
   * @param {number} [topK]
   * @returns {{ index: number, score: number }[][]}
   */
  search(queries, topK = 10) {
    if (!Number.isInteger(topK) || topK < 1) throw new Error(`topK must be a positive integer, got ${JSON.stringify(topK)}`);
    const qs = queries.map((q, n) => {
      if (q.length !== this.dim) throw new Error(`query ${n} has ${q.length} dims, the file ${this.dim}`);
      checkFiniteQuery(q, `query ${n}`);
      const norm = Math.sqrt(q.reduce((s, v) => s + v * v, 0)) || 1;
      return Float64Array.from(q, (v) => v / norm);
    });
    const norms = this.rowNorms();
    const best = qs.map(() => []);
    for (let i = 0; i < this.count; i++) {
      const at = i * this.dim;
      const factor = (this.scales ? this.scales[i] : 1) / Math.max(norms[i], COSINE_NORM_FLOOR);
      for (let n = 0; n < qs.length; n++) {
        const q = qs[n];
        let dot = 0;
        for (let j = 0; j < this.dim; j++) dot += this.rows[at + j] * q[j];
        insert(best[n], { index: i, score: dot * factor }, topK);
      }
    }
    return best;
  }
}

/** A file must be exactly header + rows (+ scales): a count smaller or larger than the data is refused. */
function checkSize(size, expected, count) {
  if (size < expected) throw new Error(`vector file is truncated (${size} bytes, its header says ${count} rows: ${expected}); write it again`);
  if (size > expected) {
    throw new Error(`vector file has ${size - expected} bytes past its ${count} rows (header count wrong or data appended); write it again`);
  }
}

/** Keep `list` sorted best first with at most `k` items; an equal score never displaces an earlier row. */
function insert(list, hit, k) {
  if (list.length === k && hit.score <= list[k - 1].score) return;
  let at = list.length;
  while (at > 0 && list[at - 1].score < hit.score) at--;
  list.splice(at, 0, hit);
  if (list.length > k) list.pop();
}

function readFloat32(bytes, offset, count) {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 4 * count);
  return Float32Array.from({ length: count }, (_, i) => view.getFloat32(4 * i, true));
}
