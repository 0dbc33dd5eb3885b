/**
 * Read the parts of an ONNX ModelProto the pooling kernel needs (src/kernel.js): the graph's nodes, inputs,
 * outputs and initializers, the tensors' bytes as views (no copy). Protobuf wire format, the fields of onnx.proto
 * this needs only: a full protobuf library would add tens of kB to every bundle for a few dozen lines.
 */

/** ONNX TensorProto.DataType codes used by exported graphs. */
export const ONNX_TYPES = Object.freeze({ FLOAT: 1, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10 });

/** Walk one message's fields: `visit(field, wire, value)`, value a number (varint, fixed) or a byte view. */
function fields(bytes, visit) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      if (at >= bytes.length) throw new Error("truncated protobuf");
      const byte = bytes[at++];
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
      if (shift > 2 ** 63) throw new Error("bad protobuf varint");
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let value;
    if (wire === 0) value = varint();
    else if (wire === 1) [value, at] = [view.getFloat64(at, true), at + 8];
    else if (wire === 5) [value, at] = [view.getFloat32(at, true), at + 4];
    else if (wire === 2) {
      const length = varint();
      if (at + length > bytes.length) throw new Error("truncated protobuf");
      [value, at] = [bytes.subarray(at, at + length), at + length];
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
    if (at > bytes.length) throw new Error("truncated protobuf");
    visit(field, wire, value);
  }
}

const decoder = new TextDecoder();
const text = (bytes) => decoder.decode(bytes);

/** Packed (wire 2) or repeated (wire 0) varints, appended to `list`. */
function varints(wire, value, list) {
  if (wire === 0) {
    list.push(value);
    return;
  }
  let number = 0;
  let shift = 1;
  for (const byte of value) {
    number += (byte & 0x7f) * shift;
    shift *= 128;
    if (byte < 0x80) {
      list.push(number);
      [number, shift] = [0, 1];
    }
  }
}

/** A model.onnx whose bytes contradict themselves (e.g. a table shorter than its dims): never run, never guessed. */
export class CorruptOnnx extends Error {}

/** Bytes per element by ONNX data type (strings have none). */
const ELEMENT_BYTES = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
/** TensorProto typed fields: number → bytes per packed fixed element (0: varints). */
const TYPED_FIELDS = { 4: 4, 5: 0, 7: 0, 10: 8, 11: 0 };

function tensor(bytes) {
  const out = { name: "", dims: [], dataType: 0, raw: null, hasOtherData: false, typedCount: 0, external: false };
  fields(bytes, (field, wire, value) => {
    if (field === 1) varints(wire, value, out.dims);
    else if (field === 2) out.dataType = value;
    else if (field === 8) out.name = text(value);
    else if (field === 9) out.raw = value;
    else if (field in TYPED_FIELDS) {
      out.hasOtherData = true;
      const size = TYPED_FIELDS[field];
      if (wire !== 2) out.typedCount += 1;
      else if (size > 0) out.typedCount += value.byteLength / size;
      else out.typedCount += value.reduce((n, byte) => n + (byte < 0x80 ? 1 : 0), 0);
    } else if (field === 6 || field === 13 || (field === 14 && value === 1)) {
      out.hasOtherData = true; // strings or external data: no length to check here
      out.external = true;
    }
  });
  checkLength(out);
  return out;
}

/** Every initializer's stored length must be what its dims and type say: a short table never reads as zeros. */
function checkLength(t) {
  if (t.external) return;
  const count = t.dims.reduce((n, d) => n * d, 1);
  const size = ELEMENT_BYTES[t.dataType];
  const shape = `[${t.dims.join(", ")}]`;
  if (t.raw !== null && t.hasOtherData) throw new CorruptOnnx(`initializer ${t.name} has both raw and typed data`);
  if (t.raw !== null) {
    if (size === undefined || t.raw.byteLength !== count * size) {
      throw new CorruptOnnx(`initializer ${t.name} holds ${t.raw.byteLength} bytes, but its dims ${shape} of ONNX type ${t.dataType} need ${size === undefined ? "a known type" : count * size}`);
    }
  } else if (t.typedCount !== count) {
    throw new CorruptOnnx(`initializer ${t.name} holds ${t.typedCount} values, but its dims ${shape} need ${count}`);
  }
}

function attribute(bytes) {
  const out = { name: "", f: null, i: null, ints: [] };
  fields(bytes, (field, wire, value) => {
    if (field === 1) out.name = text(value);
    else if (field === 2) out.f = value;
    else if (field === 3) out.i = value;
    else if (field === 8) varints(wire, value, out.ints);
  });
  return out;
}

function node(bytes) {
  const out = { inputs: [], outputs: [], opType: "", domain: "", attributes: {} };
  fields(bytes, (field, _wire, value) => {
    if (field === 1) out.inputs.push(text(value));
    else if (field === 2) out.outputs.push(text(value));
    else if (field === 4) out.opType = text(value);
    else if (field === 7) out.domain = text(value);
    else if (field === 5) {
      const attr = attribute(value);
      out.attributes[attr.name] = attr;
    }
  });
  return out;
}

/** ValueInfoProto: name and tensor element type. */
function valueInfo(bytes) {
  const out = { name: "", elemType: 0 };
  fields(bytes, (field, _wire, value) => {
    if (field === 1) out.name = text(value);
    else if (field === 2) {
      fields(value, (typeField, _w, tensorType) => {
        if (typeField === 1) fields(tensorType, (f, _x, v) => f === 1 && (out.elemType = v));
      });
    }
  });
  return out;
}

/**
 * Parse a model.onnx.
 *
 * @param {Uint8Array} bytes
 * @returns {{nodes: ReturnType<typeof node>[], initializers: Map<string, ReturnType<typeof tensor>>,
 *   inputs: {name: string, elemType: number}[], outputs: {name: string, elemType: number}[],
 *   metadata: Map<string, string>}} `metadata`: the model's metadata_props.
 */
export function readOnnx(bytes) {
  const graph = { nodes: [], initializers: new Map(), inputs: [], outputs: [], metadata: new Map() };
  let found = false;
  fields(bytes, (field, wire, value) => {
    if (field === 14 && wire === 2) {
      const entry = { key: "", value: "" };
      fields(value, (f, _w, v) => (f === 1 ? (entry.key = text(v)) : f === 2 && (entry.value = text(v))));
      graph.metadata.set(entry.key, entry.value);
    }
    if (field !== 7 || wire !== 2) return;
    found = true;
    fields(value, (f, _w, v) => {
      if (f === 1) graph.nodes.push(node(v));
      else if (f === 5) {
        const t = tensor(v);
        graph.initializers.set(t.name, t);
      } else if (f === 11) graph.inputs.push(valueInfo(v));
      else if (f === 12) graph.outputs.push(valueInfo(v));
    });
  });
  if (!found) throw new Error("no graph in the ONNX file");
  graph.inputs = graph.inputs.filter((input) => !graph.initializers.has(input.name));
  return graph;
}
