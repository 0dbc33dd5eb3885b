/**
 * What an exported graph computes, from the pooling spec the exporter declares in its metadata_props (contract.js
 * `POOLING_SPEC_KEY`): which nodes of the generated node table (`POOLING_NODES`, Python's contract.py, the table
 * src/m2v_edge/export/graph.py builds graphs from) it holds. The graph's nodes must be exactly that table expanded for
 * the spec, and its constants exactly the contract's; anything else runs on ONNX Runtime, with the reason. An export
 * older than the spec declares nothing: its spec is read from the initializers it holds, then checked the same exact
 * way (the same builder wrote it).
 */
import {
  ATTENTION_MASK,
  HIDDEN_NODES,
  HIDDEN_OUTPUT,
  INPUT_IDS,
  NORM_EPSILON,
  OUTPUT,
  POOLING_FLAGS,
  POOLING_NODES,
  POOLING_OPTIONAL_FLAGS,
  POOLING_SLOT_DEFAULTS,
  POOLING_SPEC_KEY,
  POOLING_SPEC_VERSION,
} from "./contract.js";
import { ONNX_TYPES } from "./onnx-proto.js";

export { NORM_EPSILON };

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
const ARRAYS = {
  [ONNX_TYPES.FLOAT]: Float32Array,
  [ONNX_TYPES.INT32]: Int32Array,
  [ONNX_TYPES.INT64]: BigInt64Array,
  [ONNX_TYPES.INT8]: Int8Array,
};

/**
 * The nodes a spec's graph holds: the generated `POOLING_NODES` expanded (as Python's `format.pooling_nodes`).
 *
 * @param {Record<string, boolean>} flags
 * @returns {{op: string, inputs: string[], output: string, attrs: Record<string, number | number[]>}[]}
 */
export function poolingNodes(flags) {
  const slots = {};
  const resolve = (name) => {
    if (!name.startsWith("$")) return name;
    const slot = name.slice(1);
    return slot in slots ? slots[slot] : resolve(POOLING_SLOT_DEFAULTS[slot]);
  };
  const out = [];
  for (const [op, inputs, output, attrs, flag] of POOLING_NODES) {
    if (flag !== null && !flags[flag]) continue;
    const [slot, name] = output.includes("=") ? output.split("=") : [null, output];
    out.push({ op, inputs: inputs.map(resolve), output: name, attrs });
    if (slot) slots[slot] = name;
  }
  out[out.length - 1].output = OUTPUT;
  if (flags.hidden) out.push(...HIDDEN_NODES.map(([op, inputs, output, attrs]) => ({ op, inputs: [...inputs], output, attrs })));
  return out;
}

/** The declared spec, or for an older export the one its initializers imply; `declared` says which. */
function specOf(graph) {
  const text = graph.metadata.get(POOLING_SPEC_KEY);
  const has = (name) => graph.initializers.has(name);
  if (text === undefined) {
    const flags = { token_keep: has("token_keep"), unk: !has("token_keep") && has("unk_token_id"), token_scale: has("token_scale") };
    Object.assign(flags, { row_map: has("row_map"), cast: graph.initializers.get("table")?.dataType !== ONNX_TYPES.FLOAT, bias: has("isotropy_bias"), normalize: has("tiny"), hidden: false });
    return { flags, declared: false };
  }
  let spec;
  try {
    spec = JSON.parse(text);
  } catch {
    fail(`its ${POOLING_SPEC_KEY} metadata is not JSON`);
  }
  if (spec?.version !== POOLING_SPEC_VERSION) fail(`its pooling spec version ${JSON.stringify(spec?.version)} is not ${POOLING_SPEC_VERSION}`);
  for (const flag of POOLING_OPTIONAL_FLAGS) spec[flag] ??= false; // declared before the flag existed
  const keys = Object.keys(spec).filter((key) => key !== "version");
  if (keys.sort().join() !== [...POOLING_FLAGS].sort().join() || keys.some((key) => typeof spec[key] !== "boolean")) {
    fail(`its pooling spec does not hold exactly the flags ${JSON.stringify(POOLING_FLAGS)}`);
  }
  return { flags: spec, declared: true };
}

function sameAttributes(node, attrs) {
  const names = Object.keys(node.attributes);
  if (names.sort().join() !== Object.keys(attrs).sort().join()) return false;
  return names.every((name) => {
    const want = attrs[name];
    const got = node.attributes[name];
    return Array.isArray(want) ? got.ints.join() === want.join() : got.i === want;
  });
}

/** A constant's values, checked against its expected type and shape (`null` dims: one dimension, any length). */
function constant(graph, name, dataType, dims) {
  const tensor = graph.initializers.get(name);
  if (!tensor) fail(`it has no ${name} initializer`);
  if (tensor.dataType !== dataType) {
    fail(name === "table" ? `its table is ${typeName(tensor.dataType)} (the kernel reads int8 tables)` : `its ${name} is ${typeName(tensor.dataType)}, not ${typeName(dataType)}`);
  }
  if (tensor.dims.length !== dims.length || dims.some((d, i) => d !== null && d !== tensor.dims[i])) {
    fail(`its ${name} has shape [${tensor.dims}], not [${dims.map((d) => d ?? "n")}]`);
  }
  if (!tensor.raw || tensor.hasOtherData) fail(`initializer ${name} is not stored as raw data`);
  const ArrayType = ARRAYS[dataType];
  // Wider types are copied (raw bytes need not be aligned); bytes (the int8 table) are read in place: a copy of
  // the table would be the biggest allocation of a load (149 MB for a Qwen-sized model), and the kernel copies
  // the rows into its memory anyway.
  // (Uint8Array's slice, a copy: a Node Buffer's own `slice` is a view.)
  const bytes = ArrayType.BYTES_PER_ELEMENT === 1 ? tensor.raw : Uint8Array.prototype.slice.call(tensor.raw);
  return new ArrayType(bytes.buffer, bytes.byteOffset, bytes.byteLength / ArrayType.BYTES_PER_ELEMENT);
}

/** A per-token factor from its parts (mask × keep × scale, in the graph's order), or null for none. */
function materialize(parts, vocab) {
  let out = null;
  for (const part of parts) out = out === null ? part.slice(0, vocab) : out.map((x, i) => Math.fround(x * part[i]));
  return out;
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
  const { flags, declared } = specOf(graph);
  const outputs = flags.hidden ? [OUTPUT, HIDDEN_OUTPUT] : [OUTPUT];
  if (graph.outputs.map((o) => o.name).join() !== outputs.join()) fail(`its outputs are not ${JSON.stringify(outputs)}`);
  const source = declared ? "its declared pooling spec" : "the pooling its initializers imply (no declared spec)";
  const tableType = graph.initializers.get("table")?.dataType;
  if (tableType !== undefined && tableType !== ONNX_TYPES.INT8) fail(`its table is ${typeName(tableType)} (the kernel reads int8 tables)`);
  const expected = poolingNodes(flags);
  graph.nodes.slice(0, expected.length).forEach((node, i) => {
    const want = expected[i];
    const same = node.domain === "" && node.opType === want.op && node.outputs.length === 1 && node.outputs[0] === want.output;
    if (!same || node.inputs.join() !== want.inputs.join() || !sameAttributes(node, want.attrs)) {
      fail(`its ${node.opType} node ${JSON.stringify(node.outputs[0])} is not node ${i} of ${source} (${want.op} ${JSON.stringify(want.output)})`);
    }
  });
  if (graph.nodes.length !== expected.length) fail(`it has ${graph.nodes.length} nodes, ${source} has ${expected.length}`);
  const table = constant(graph, "table", ONNX_TYPES.INT8, [null, null]);
  const [rows, dim] = graph.initializers.get("table").dims;
  if (constant(graph, "axis1", ONNX_TYPES.INT64, [1])[0] !== 1n) fail("its axis1 is not [1]");
  if (constant(graph, "one", ONNX_TYPES.FLOAT, [])[0] !== 1) fail("its one is not 1");
  if (flags.hidden && constant(graph, "axis2", ONNX_TYPES.INT64, [1])[0] !== 2n) fail("its axis2 is not [2]");
  if (flags.normalize && constant(graph, "tiny", ONNX_TYPES.FLOAT, [])[0] !== Math.fround(NORM_EPSILON)) {
    fail(`its norm epsilon tiny is not the contract's ${NORM_EPSILON}`);
  }
  const perToken = (name, type) => (flags[name] ? constant(graph, name, type, [null]) : null);
  const keep = perToken("token_keep", ONNX_TYPES.FLOAT);
  const scale = perToken("token_scale", ONNX_TYPES.FLOAT);
  const rowMap = perToken("row_map", ONNX_TYPES.INT32);
  const bias = flags.bias ? constant(graph, "isotropy_bias", ONNX_TYPES.FLOAT, [dim]) : null;
  const unk = flags.unk ? Number(constant(graph, "unk_token_id", ONNX_TYPES.INT64, [])[0]) : null;
  const lengths = [keep, scale].filter(Boolean).map((x) => x.length);
  const vocab = Math.min(rowMap ? rowMap.length : rows, ...lengths);
  if (rowMap && rowMap.some((row) => row < 0 || row >= rows)) fail("its row map points outside the table");
  const drop = keep ?? (unk === null ? null : Float32Array.from({ length: vocab }, (_, id) => (id === unk ? 0 : 1)));
  return {
    table: new Uint8Array(table.buffer, table.byteOffset, table.byteLength),
    rows,
    dim,
    vocab,
    weight: materialize([drop, scale].filter(Boolean), vocab),
    count: materialize([drop].filter(Boolean), vocab),
    rowMap,
    bias,
    normalize: flags.normalize,
  };
}
