/**
 * What an exported graph computes, read from its nodes (src/m2v_edge/export/graph.py builds them): the int8 table,
 * the per-token weight, the per-token count factor, the row map, the isotropy shift and whether it normalizes.
 * The nodes are evaluated symbolically, by what each one does to its inputs, not by their names; a node the
 * pooling kernel does not reproduce exactly makes the whole graph unsupported (it then runs on ONNX Runtime).
 */
import { ATTENTION_MASK, INPUT_IDS, OUTPUT } from "./contract.js";
import { ONNX_TYPES } from "./onnx-proto.js";

/** The normalizing epsilon the kernel adds to each norm (graph.py: `tiny`). */
export const NORM_EPSILON = Math.fround(1e-32);

/**
 * @typedef {object} PoolSpec
 * @property {Uint8Array} table int8 table bytes, row-major.
 * @property {number} rows table rows.
 * @property {number} dim
 * @property {number} vocab ids the per-token arrays cover (ids at or above it are refused).
 * @property {Float32Array | null} weight per-token weight (null: 1).
 * @property {Float32Array | null} count per-token count factor (null: 1).
 * @property {Int32Array | null} rowMap per-token table row (null: the id).
 * @property {Float32Array | null} bias added to the mean of a row with tokens.
 * @property {boolean} normalize
 */

class Unsupported extends Error {}

const fail = (why) => {
  throw new Unsupported(why);
};

const TYPE_NAMES = { [ONNX_TYPES.FLOAT]: "float32", [ONNX_TYPES.FLOAT16]: "float16", [ONNX_TYPES.INT8]: "int8" };
const typeName = (dataType) => TYPE_NAMES[dataType] ?? `ONNX type ${dataType}`;

/** A tensor initializer's values as a typed array (a copy: raw bytes need not be aligned). */
function values(tensor) {
  if (!tensor.raw || tensor.hasOtherData) fail(`initializer ${tensor.name} is not stored as raw data`);
  const bytes = tensor.raw.slice();
  const ArrayType = {
    [ONNX_TYPES.FLOAT]: Float32Array,
    [ONNX_TYPES.INT32]: Int32Array,
    [ONNX_TYPES.INT64]: BigInt64Array,
    [ONNX_TYPES.INT8]: Int8Array,
  }[tensor.dataType];
  if (!ArrayType) fail(`its ${tensor.name} is ${typeName(tensor.dataType)} (the kernel reads int8 tables)`);
  if (bytes.byteLength % ArrayType.BYTES_PER_ELEMENT) fail(`its ${tensor.name} has a partial element`);
  return new ArrayType(bytes.buffer, 0, bytes.byteLength / ArrayType.BYTES_PER_ELEMENT);
}

const isScalar = (sym, value) => sym?.kind === "const" && sym.dims.length <= 1 && sym.values.length === 1 && sym.values[0] === value;
const isAxisOne = (sym) => sym?.kind === "const" && sym.dims.length === 1 && sym.values.length === 1 && sym.values[0] === 1n;
const perToken = (sym) => sym?.kind === "const" && sym.dims.length === 1 && sym.values instanceof Float32Array;

/**
 * A per-token factor (mask × keep × scale, in the graph's order), from its parts: float arrays, or
 * `{unk}` (1 for every id but the unknown token's).
 */
function materialize(parts, vocab) {
  let out = null;
  for (const part of parts) {
    const next = part instanceof Float32Array ? part : Float32Array.from({ length: vocab }, (_, id) => (id === part.unk ? 0 : 1));
    out = out === null ? next.slice(0, vocab) : out.map((x, i) => Math.fround(x * next[i]));
  }
  return out;
}

/** Axes [1] from the attribute or the second input. */
function axesOne(node, sym) {
  const attr = node.attributes.axes;
  if (attr) return attr.ints.length === 1 && attr.ints[0] === 1 && node.inputs.length === 1;
  return node.inputs.length === 2 && isAxisOne(sym(node.inputs[1]));
}

/** One node's meaning from its inputs' meanings, or an Unsupported error. */
function evaluate(node, sym) {
  const [a, b] = node.inputs.map(sym);
  const op = node.opType;
  const keepdims = node.attributes.keepdims?.i ?? 1;
  const castToFloat = op === "Cast" && node.attributes.to?.i === ONNX_TYPES.FLOAT;
  if (castToFloat && a?.kind === "mask") return { kind: "tokens", factor: [] };
  if (castToFloat && a?.kind === "known") return { kind: "factor", part: { unk: a.id } };
  if (castToFloat && a?.kind === "int8rows") return { ...a, kind: "rows" };
  if (op === "Equal" && a?.kind === "ids" && b?.kind === "const" && b.values instanceof BigInt64Array && b.values.length === 1) {
    return { kind: "is", id: Number(b.values[0]) };
  }
  if (op === "Not" && a?.kind === "is") return { kind: "known", id: a.id };
  if (op === "Gather" && (node.attributes.axis?.i ?? 0) === 0 && (b?.kind === "ids" || b?.kind === "rowMap")) {
    if (perToken(a) && b.kind === "ids") return { kind: "factor", part: a.values };
    if (a?.kind === "const" && a.values instanceof Int32Array && a.dims.length === 1 && b.kind === "ids") {
      return { kind: "rowMap", values: a.values };
    }
    if (a?.kind === "const" && a.dims.length === 2) {
      if (!(a.values instanceof Int8Array)) fail(`its table is ${typeName(a.dataType)} (the kernel reads int8 tables)`);
      return { kind: "int8rows", table: a, rowMap: b.kind === "rowMap" ? b.values : null };
    }
  }
  if (op === "Mul" && a?.kind === "tokens" && b?.kind === "factor") return { kind: "tokens", factor: [...a.factor, b.part] };
  if (op === "ReduceSum" && a?.kind === "tokens" && keepdims === 1 && axesOne(node, sym)) return { kind: "count", factor: a.factor };
  if (op === "Max" && a?.kind === "count" && isScalar(b, 1)) return { kind: "countSafe", factor: a.factor };
  if (op === "Min" && a?.kind === "count" && isScalar(b, 1)) return { kind: "has", factor: a.factor };
  if (op === "Unsqueeze" && a?.kind === "tokens" && axesOne(node, sym)) return { kind: "weight3", factor: a.factor };
  if (op === "MatMul" && a?.kind === "weight3" && b?.kind === "rows") return { kind: "pooled3", weight: a.factor, rows: b };
  if (op === "Squeeze" && a?.kind === "pooled3" && axesOne(node, sym)) return { ...a, kind: "pooled" };
  if (op === "Div" && a?.kind === "pooled" && b?.kind === "countSafe") {
    return { kind: "mean", weight: a.weight, rows: a.rows, count: b.factor, bias: null };
  }
  if (op === "Mul" && a?.kind === "has" && perToken(b)) return { kind: "shift", count: a.factor, bias: b.values };
  if (op === "Add" && a?.kind === "mean" && a.bias === null && b?.kind === "shift" && b.count === a.count) {
    return { ...a, bias: b.bias };
  }
  if (op === "ReduceL2" && a?.kind === "mean" && keepdims === 1 && axesOne(node, sym)) return { kind: "norm", mean: a };
  if (op === "Add" && a?.kind === "norm" && isScalar(b, NORM_EPSILON)) return { kind: "normSafe", mean: a.mean };
  if (op === "Div" && a?.kind === "mean" && b?.kind === "normSafe" && b.mean === a) return { ...a, kind: "normalized" };
  return fail(`its ${op} node ${JSON.stringify(node.outputs[0])} is not one the pooling kernel reproduces`);
}

/**
 * Read the pooling a graph computes.
 *
 * @param {ReturnType<typeof import("./onnx-proto.js").readOnnx>} graph
 * @returns {{spec: PoolSpec | null, reason: string | null}} `reason` says why the kernel cannot run it.
 */
export function poolSpec(graph) {
  try {
    return { spec: readSpec(graph), reason: null };
  } catch (err) {
    if (err instanceof Unsupported) return { spec: null, reason: err.message };
    throw err;
  }
}

function readSpec(graph) {
  const names = graph.inputs.map((input) => input.name).sort();
  if (names.join() !== [ATTENTION_MASK, INPUT_IDS].sort().join() || graph.inputs.some((i) => i.elemType !== ONNX_TYPES.INT64)) {
    fail("its inputs are not int64 input_ids and attention_mask");
  }
  if (graph.outputs.length !== 1 || graph.outputs[0].name !== OUTPUT) fail(`its output is not "${OUTPUT}" alone`);
  const symbols = new Map([
    [INPUT_IDS, { kind: "ids" }],
    [ATTENTION_MASK, { kind: "mask" }],
  ]);
  const sym = (name) => {
    if (symbols.has(name)) return symbols.get(name);
    const tensor = graph.initializers.get(name);
    if (!tensor) return undefined;
    const constant = { kind: "const", dims: tensor.dims, values: values(tensor), dataType: tensor.dataType };
    symbols.set(name, constant);
    return constant;
  };
  for (const node of graph.nodes) {
    if (node.domain !== "" || node.outputs.length !== 1) fail(`its ${node.opType} node is not a standard one-output node`);
    symbols.set(node.outputs[0], evaluate(node, sym));
  }
  const out = symbols.get(OUTPUT);
  if (out?.kind !== "mean" && out?.kind !== "normalized") fail(`its "${OUTPUT}" is not a pooled mean`);
  const { table, rowMap } = out.rows;
  const [rows, dim] = table.dims;
  const arrays = [...out.weight, ...out.count].filter((part) => part instanceof Float32Array);
  const vocab = Math.min(rowMap ? rowMap.length : rows, ...arrays.map((x) => x.length));
  if (rowMap && rowMap.some((row) => row < 0 || row >= rows)) fail("its row map points outside the table");
  if (out.bias && out.bias.length !== dim) fail("its isotropy shift is not one value per dimension");
  return {
    table: new Uint8Array(table.values.buffer, table.values.byteOffset, table.values.byteLength),
    rows,
    dim,
    vocab,
    weight: materialize(out.weight, vocab),
    count: materialize(out.count, vocab),
    rowMap,
    bias: out.bias,
    normalize: out.kind === "normalized",
  };
}
