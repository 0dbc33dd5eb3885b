/**
 * The pooling kernel: an exported int8 graph run by an 832-byte WebAssembly SIMD function (kernel/pool.wat)
 * instead of ONNX Runtime. The graph is a table lookup and a masked mean; onnxruntime-web runs it as Gather, Cast
 * and a batched MatMul over float copies of every row, 3-4x slower than summing the int8 rows in place
 * (docs/bench.md). The model.onnx is the same file: its nodes are read and evaluated symbolically
 * (src/graph-spec.js), and a graph the kernel does not reproduce runs on ONNX Runtime.
 *
 * `KernelSession` has the parts of ONNX Runtime's `InferenceSession` the package uses, so loading, validation and
 * encoding are the same code on both engines.
 */
import { ATTENTION_MASK, INPUT_IDS, OUTPUT } from "./contract.js";
import { poolSpec } from "./graph-spec.js";
import { CorruptOnnx, readOnnx } from "./onnx-proto.js";
import { POOL_WASM } from "./pool-wasm.js";

const PAGE = 65536;
const ALIGN = 16;
const align = (n) => Math.ceil(n / ALIGN) * ALIGN;

/** A tensor as the kernel reads and returns it (the fields of ORT's `Tensor` the package uses). */
export class KernelTensor {
  /**
   * @param {string} type
   * @param {BigInt64Array | Float32Array} data
   * @param {number[]} dims
   */
  constructor(type, data, dims) {
    this.type = type;
    this.data = data;
    this.dims = dims;
  }
}

/** Whether this JavaScript engine runs WebAssembly SIMD (browsers since 2021, Node ≥ 16; not Hermes). */
export function kernelAvailable() {
  if (typeof WebAssembly !== "object") return false;
  try {
    return WebAssembly.validate(decode(POOL_WASM));
  } catch {
    return false;
  }
}

function decode(base64) {
  const text = atob(base64);
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * A kernel instance whose memory a load reads the graph's file into (`alloc`), so that the kernel pools straight
 * from the table inside it: no second copy of the table beside the file's bytes (the biggest allocation of a load:
 * 149 MB for a Qwen-sized model), and none of the time to copy it.
 */
export class KernelMemory {
  /** @returns {Promise<KernelMemory | null>} null where the kernel cannot run (no WebAssembly SIMD). */
  static async create() {
    if (!kernelAvailable()) return null;
    return new KernelMemory((await WebAssembly.instantiate(decode(POOL_WASM))).instance.exports);
  }

  /** @param {any} exports the instance's `memory` and `pool`. */
  constructor(exports) {
    this.exports = exports;
  }

  /**
   * The region a file of `size` bytes is read into: one per memory (a second call replaces the first, whose views
   * the memory's growth detaches).
   *
   * @param {number} size
   * @returns {Uint8Array | null} null when the memory cannot grow that far (the file is then read into a buffer of
   *   its own, and the kernel's copy of the table fails the same way: ONNX Runtime runs the graph, as before).
   */
  alloc(size) {
    const memory = this.exports.memory;
    const need = ALIGN + size;
    try {
      if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    } catch (err) {
      if (err instanceof RangeError) return null;
      throw err;
    }
    return new Uint8Array(memory.buffer, ALIGN, size);
  }

  /**
   * Whether `bytes` lie in this memory (read by `alloc`).
   *
   * @param {Uint8Array} bytes
   */
  holds(bytes) {
    return bytes.buffer === this.exports.memory.buffer;
  }
}

export class KernelSession {
  /**
   * Build a session for a model.onnx, or say why the kernel cannot run it.
   *
   * @param {Uint8Array} bytes model.onnx: anywhere (the kernel copies the table into its own memory), or read into
   *   `memory` by its `alloc` (the kernel reads the table where it lies; the memory's growth then detaches `bytes`).
   * @param {KernelMemory | null} [memory]
   * @returns {Promise<{session: KernelSession | null, reason: string | null}>}
   */
  static async create(bytes, memory = null) {
    if (!kernelAvailable()) return { session: null, reason: "this JavaScript engine has no WebAssembly SIMD" };
    let graph;
    try {
      graph = readOnnx(bytes);
    } catch (err) {
      if (err instanceof CorruptOnnx) throw err;
      return { session: null, reason: `the file is not a readable ONNX model (${err.message})` };
    }
    const { spec, reason } = poolSpec(graph);
    if (spec === null) return { session: null, reason };
    // In place only for rows of whole 16-column blocks (dim a multiple of 16, as every common width): the kernel
    // reads a row's columns in blocks of 16, and narrower rows are padded in a copy.
    const inPlace = memory?.holds(bytes) === true && align(spec.dim) === spec.dim;
    const exports = inPlace ? memory.exports : (await WebAssembly.instantiate(decode(POOL_WASM))).instance.exports;
    try {
      const session = new KernelSession(exports, spec, inPlace ? bytes.byteOffset + bytes.byteLength : null);
      session.metadata = graph.metadata; // the exporter's config, checked against config.json (checksum.js)
      return { session, reason: null };
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
      const mb = Math.ceil((spec.rows * spec.dim) / 1e6);
      return { session: null, reason: `no WebAssembly memory for its ${mb} MB table (${err.message})` };
    }
  }

  /**
   * @param {any} exports the instance's `memory` and `pool`.
   * @param {import("./graph-spec.js").PoolSpec} spec
   * @param {number | null} [fileEnd] the end of the graph's file in the instance's memory, when `spec.table` lies in
   *   it (read in place); null: the table is copied in.
   */
  constructor(exports, spec, fileEnd = null) {
    this.inputNames = [INPUT_IDS, ATTENTION_MASK];
    this.outputNames = [OUTPUT];
    this.inputMetadata = this.inputNames.map((name) => ({ name, isTensor: true, type: "int64" }));
    this.exports = exports;
    this.dim = spec.dim;
    this.vocab = spec.vocab;
    this.normalize = spec.normalize;
    // 16-column blocks: rows and vectors are padded to a multiple of 16 (zeros, which add nothing).
    this.stride = align(spec.dim);
    const ones = () => new Float32Array(spec.vocab).fill(1);
    const layout = {};
    const inPlace = fileEnd !== null;
    /** Whether the kernel pools from the table inside the graph's file, read into its memory (else a copy). */
    this.tableInPlace = inPlace;
    // the table's address before the memory grows (growth detaches the view, and a detached view's offset is 0)
    const tableAt = inPlace ? spec.table.byteOffset : 0;
    let at = inPlace ? align(fileEnd) : ALIGN; // 0 means "none" to the kernel
    for (const [name, size] of [
      ["weight", 4 * spec.vocab],
      ["count", 4 * spec.vocab],
      ["rowMap", spec.rowMap ? 4 * spec.vocab : 0],
      ["bias", spec.bias ? 4 * this.stride : 0],
      ["table", inPlace ? 0 : spec.rows * this.stride],
    ]) {
      layout[name] = size ? at : 0;
      at = align(at + size);
    }
    if (inPlace) layout.table = tableAt;
    this.layout = layout;
    this.dynamic = at;
    this.#reserve(0);
    const memory = this.exports.memory.buffer;
    new Float32Array(memory, layout.weight, spec.vocab).set(spec.weight ?? ones());
    new Float32Array(memory, layout.count, spec.vocab).set(spec.count ?? ones());
    if (spec.rowMap) new Int32Array(memory, layout.rowMap, spec.vocab).set(spec.rowMap.subarray(0, spec.vocab));
    if (spec.bias) new Float32Array(memory, layout.bias, spec.dim).set(spec.bias);
    if (inPlace) return;
    const table = new Uint8Array(memory, layout.table, spec.rows * this.stride);
    if (this.stride === spec.dim) table.set(spec.table);
    else for (let r = 0; r < spec.rows; r++) table.set(spec.table.subarray(r * spec.dim, (r + 1) * spec.dim), r * this.stride);
  }

  /** Grow the memory so `bytes` fit past the fixed part. */
  #reserve(bytes) {
    const memory = this.exports.memory;
    const need = this.dynamic + bytes;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
  }

  /**
   * Pool a batch, like `InferenceSession.run`.
   *
   * @param {Record<string, {data: BigInt64Array, dims: number[]}>} feeds `input_ids` and `attention_mask`.
   * @returns {Promise<Record<string, KernelTensor>>}
   */
  async run(feeds) {
    const ids = feeds[INPUT_IDS];
    const mask = feeds[ATTENTION_MASK];
    if (!ids || !mask) throw new Error("the kernel needs input_ids and attention_mask");
    const [batch, width] = ids.dims;
    const cells = batch * width;
    if (ids.data.length !== cells || mask.data.length !== cells || mask.dims.join() !== ids.dims.join()) {
      throw new Error("input_ids and attention_mask must both be [batch, sequence]");
    }
    const idsAt = this.dynamic;
    const maskAt = idsAt + 8 * cells;
    const outAt = align(maskAt + 8 * cells);
    const scratchAt = outAt + 4 * batch * this.stride;
    this.#reserve(scratchAt + 8 * width - this.dynamic);
    const memory = this.exports.memory.buffer;
    const idWords = new Int32Array(memory, idsAt, 2 * cells);
    const maskWords = new Int32Array(memory, maskAt, 2 * cells);
    idWords.set(new Int32Array(ids.data.buffer, ids.data.byteOffset, 2 * cells));
    maskWords.set(new Int32Array(mask.data.buffer, mask.data.byteOffset, 2 * cells));
    for (let i = 0; i < 2 * cells; i += 2) {
      if (idWords[i + 1] !== 0 || idWords[i] < 0 || idWords[i] >= this.vocab) {
        throw new Error(`input_ids holds ${ids.data[i / 2]}, outside the table's 0..${this.vocab - 1}`);
      }
      if (maskWords[i + 1] !== 0 || maskWords[i] >>> 1 !== 0) throw new Error("attention_mask must hold 0 or 1");
    }
    const { table, weight, count, rowMap, bias } = this.layout;
    this.exports.pool(idsAt, maskAt, batch, width, outAt, table, this.stride, weight, count, rowMap, bias, this.normalize ? 1 : 0, scratchAt);
    const padded = new Float32Array(memory, outAt, batch * this.stride);
    let data;
    if (this.stride === this.dim) data = padded.slice();
    else {
      data = new Float32Array(batch * this.dim);
      for (let r = 0; r < batch; r++) data.set(padded.subarray(r * this.stride, r * this.stride + this.dim), r * this.dim);
    }
    return { [OUTPUT]: new KernelTensor("float32", data, [batch, this.dim]) };
  }

  /** Nothing to free but the memory, which goes with the session. */
  async release() {}
}
