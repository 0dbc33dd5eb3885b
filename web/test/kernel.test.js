/**
 * The pooling kernel (src/kernel.js): every graph option of the exporter gives Python onnxruntime's vectors, graphs
 * it does not reproduce run on ONNX Runtime with the reason said, bad feeds are errors, and the committed WebAssembly
 * is what kernel/pool.wat assembles to.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import * as ortWeb from "onnxruntime-web";

import { KernelMemory, KernelSession, KernelTensor } from "../src/kernel.js";
import { StaticOnnxModel } from "../src/index.js";
import { FIXTURES, WEB, fixture, maxAbsDiff, trickyTexts } from "./helpers.js";

const KERNEL = join(FIXTURES, "kernel");
if (!existsSync(join(KERNEL, "cases.json"))) {
  throw new Error(`${KERNEL}: fixtures missing; run \`.venv/bin/python scripts/make_kernel_fixtures.py\` first`);
}
const CASES = JSON.parse(readFileSync(join(KERNEL, "cases.json"), "utf-8"));

function feeds(run, Tensor) {
  const shape = [run.ids.length, run.ids[0].length];
  return {
    input_ids: new Tensor("int64", BigInt64Array.from(run.ids.flat(), BigInt), shape),
    attention_mask: new Tensor("int64", BigInt64Array.from(run.mask.flat(), BigInt), shape),
  };
}

for (const c of CASES) {
  test(`graph variant ${c.name}: ${c.supported ? "the kernel gives Python onnxruntime's vectors" : "refused, with a reason"}`, async (t) => {
    const bytes = new Uint8Array(readFileSync(join(KERNEL, c.file)));
    const { session, reason } = await KernelSession.create(bytes);
    if (!c.supported) {
      assert.equal(session, null);
      assert.match(reason, c.name === "float32-table" ? /its table is float32 \(the kernel reads int8 tables\)/ : /its norm epsilon tiny is not the contract's 1e-32/);
      return;
    }
    assert.equal(reason, null);
    assert.equal(session.tableInPlace, false, "bytes outside the kernel's memory: the table is copied in");
    // The file read into the kernel's memory: the table is read where it lies (rows of whole 16-column blocks)
    // or copied (narrower rows are padded); either way the same bits.
    const memory = await KernelMemory.create();
    assert.equal(memory.alloc(2 ** 33), null, "more than WebAssembly memory can hold: no region (a buffer of its own)");
    const inMemory = memory.alloc(bytes.byteLength);
    inMemory.set(bytes);
    const mapped = (await KernelSession.create(inMemory, memory)).session;
    assert.equal(mapped.tableInPlace, c.dim % 16 === 0, `dim ${c.dim}`);
    let worst = 0;
    for (const run of c.runs) {
      const out = (await session.run(feeds(run, KernelTensor))).embeddings;
      assert.deepEqual((await mapped.run(feeds(run, KernelTensor))).embeddings.data, out.data, "in place = copied, bit for bit");
      assert.deepEqual(out.dims, [run.ids.length, c.dim]);
      worst = Math.max(worst, maxAbsDiff(out.data, run.vectors.flat()));
      run.mask.forEach((row, r) => {
        if (row.every((m) => m === 0)) assert.ok(out.data.subarray(r * c.dim, (r + 1) * c.dim).every((x) => x === 0), "empty row → zero vector");
      });
    }
    t.diagnostic(`${c.name}: ${c.runs.length} batches, max abs diff vs Python onnxruntime ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-6, `max abs diff ${worst}`);
  });
}

test("the kernel and onnxruntime-web give the same vectors on every int8 fixture; fp16 and model.ort run on ORT", async (t) => {
  const texts = trickyTexts();
  for (const name of ["potion-int8", "qwen-1024-int8", "unigram-int8", "unigram-dim20-int8", "wordpiece-hf", "wordpiece-pipeline-hf", "qwen-m2v-iso-int8"]) {
    if (name === "qwen-m2v-iso-int8" && !existsSync(join(FIXTURES, name))) continue; // needs ../shared
    const kernel = await StaticOnnxModel.load(join(FIXTURES, name));
    const ort = await StaticOnnxModel.load(join(FIXTURES, name), { engine: "onnxruntime" });
    assert.equal(kernel.info.backend, "m2v-edge-kernel");
    assert.equal(kernel.info.kernelSkipped, null);
    // a folder's graph is read into the kernel's memory, and pooled from there when its rows are whole 16-column
    // blocks; 20 columns are padded in a copy (the file is then read into a buffer of its own)
    assert.equal(kernel.session.tableInPlace, kernel.dim % 16 === 0, `${name}: table in place`);
    assert.equal(ort.info.backend, "onnxruntime-web");
    const diff = maxAbsDiff((await kernel.encodeMatrix(texts)).data, (await ort.encodeMatrix(texts)).data);
    t.diagnostic(`${name}: ${texts.length} texts, kernel vs onnxruntime-web max abs diff ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-6, `${name}: ${diff}`);
  }
  const fp16 = await StaticOnnxModel.load(join(FIXTURES, "wordpiece-fp16-hf"));
  assert.equal(fp16.info.backend, "onnxruntime-web");
  assert.match(fp16.info.kernelSkipped, /table is float16/);
  const mobile = await StaticOnnxModel.load(fixture("potion-int8"), { modelFile: "model.ort" });
  assert.equal(mobile.info.backend, "onnxruntime-web");
  assert.match(mobile.info.kernelSkipped, /ORT format/);
  const native = await StaticOnnxModel.load(fixture("potion-int8"), { ort: ortWeb });
  assert.equal(native.info.backend, "onnxruntime-web", "an explicit `ort` is used");
  assert.equal(native.info.kernelSkipped, null);
  const tuned = await StaticOnnxModel.load(fixture("potion-int8"), { sessionOptions: { graphOptimizationLevel: "basic" } });
  assert.equal(tuned.info.backend, "onnxruntime-web", "sessionOptions ask for ORT");
  const forced = await StaticOnnxModel.load(fixture("potion-int8"), { ort: ortWeb, engine: "kernel" });
  assert.equal(forced.info.backend, "m2v-edge-kernel");
});

test("engine: bad values and `kernel` on a graph it cannot run are clear errors", async () => {
  await assert.rejects(StaticOnnxModel.load(fixture("potion-int8"), { engine: "gpu" }), /engine must be one of \["auto","kernel","onnxruntime"\], got "gpu"/);
  await assert.rejects(
    StaticOnnxModel.load(join(FIXTURES, "wordpiece-fp16-hf"), { engine: "kernel" }),
    /model_fp16\.onnx: the pooling kernel cannot run it: its table is float16 \(the kernel reads int8 tables\); use engine "onnxruntime"/,
  );
  await assert.rejects(StaticOnnxModel.load(fixture("potion-int8"), { threads: 0 }), /threads must be a positive integer, got 0/);
});

test("the kernel refuses ids outside the table and masks other than 0/1, like ORT's Gather", async () => {
  const c = CASES.find((x) => x.name === "scale-normalize");
  const { session } = await KernelSession.create(new Uint8Array(readFileSync(join(KERNEL, c.file))));
  const run = (ids, mask) => session.run(feeds({ ids: [ids], mask: [mask] }, KernelTensor));
  await assert.rejects(run([1, c.vocab], [1, 1]), new RegExp(`input_ids holds ${c.vocab}, outside the table's 0\\.\\.${c.vocab - 1}`));
  await assert.rejects(run([1, -1], [1, 1]), /input_ids holds -1/);
  await assert.rejects(run([1, 2], [1, 2]), /attention_mask must hold 0 or 1/);
  const truncated = await KernelSession.create(new Uint8Array(readFileSync(join(KERNEL, c.file))).subarray(0, 200));
  assert.equal(truncated.session, null);
  assert.match(truncated.reason, /not a readable ONNX model \(truncated protobuf\)/);
});

/** The graph's bytes with `from` replaced by `to` (same length: no protobuf length changes). */
function patched(bytes, from, to) {
  assert.equal(from.length, to.length);
  const at = Buffer.from(bytes).indexOf(from);
  assert.ok(at >= 0, `${from} found`);
  const out = Uint8Array.from(bytes);
  out.set(new TextEncoder().encode(to), at);
  return out;
}

test("the exporter declares its pooling spec; a spec that does not match the nodes, or a wrong version, is refused; an older export without one still runs", async () => {
  const c = CASES.find((x) => x.name === "unk-bias");
  const bytes = new Uint8Array(readFileSync(join(KERNEL, c.file)));
  assert.match(Buffer.from(bytes).toString("latin1"), /m2v_edge_pooling.*"bias": true.*"normalize": true.*"unk": true/s);
  assert.notEqual((await KernelSession.create(bytes)).session, null);
  const wrong = [
    ['"normalize": true', '"normalize":false', /its Add node "mean_shifted" is not node 17 of its declared pooling spec \(Add "embeddings"\)/],
    ['"bias": true', '"bias":false', /its Min node "has_token" is not node 15 of its declared pooling spec \(ReduceL2 "norm"\)/],
    ['"unk": true', '"unk":false', /its Equal node "is_unk" is not node 1 of its declared pooling spec \(ReduceSum "count"\)/],
    ['"version": 1', '"version": 9', /its pooling spec version 9 is not 1/],
    ['"cast": true', '"cost": true', /its pooling spec does not hold exactly the flags/],
  ];
  // An export older than the declared spec: checked against the spec its initializers imply, same vectors.
  const older = await KernelSession.create(patched(bytes, "m2v_edge_pooling", "m2v_edge_poolinX"));
  assert.equal(older.reason, null);
  const run = c.runs[2];
  const vectors = (await older.session.run(feeds(run, KernelTensor))).embeddings.data;
  assert.ok(maxAbsDiff(vectors, run.vectors.flat()) <= 1e-6);
  for (const [from, to, reason] of wrong) {
    const refused = await KernelSession.create(patched(bytes, from, to));
    assert.equal(refused.session, null, to);
    assert.match(refused.reason, reason);
  }
});

test("src/pool-wasm.js is what kernel/pool.wat assembles to", async () => {
  await promisify(execFile)(process.execPath, [join(WEB, "kernel", "build.mjs"), "--check"]);
});
