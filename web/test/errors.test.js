/** Bad input and broken model folders give rejected promises with clear messages. */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { StaticOnnxModel } from "../src/index.js";
import { fixture, rehash } from "./helpers.js";

const POTION = fixture("potion-int8");
const made = [];
after(() => made.forEach((folder) => rmSync(folder, { recursive: true, force: true })));

/** A copy of the potion export with `change(folder)` applied. */
function brokenCopy(change) {
  const folder = mkdtempSync(join(tmpdir(), "m2v-edge-broken-"));
  made.push(folder);
  for (const name of ["model.onnx", "tokenizer.json", "config.json"]) copyFileSync(join(POTION, name), join(folder, name));
  change(folder);
  rehash(folder); // consistent checksums: the deeper check is the one tested
  return folder;
}

test("non-string input is rejected, naming the bad item", async () => {
  const model = await StaticOnnxModel.load(POTION);
  await assert.rejects(model.encode(42), /texts must be a string or an array of strings, got number/);
  await assert.rejects(model.encode(null), /got null/);
  await assert.rejects(model.encode(["ok", 3]), /texts\[1\] is number, expected a string/);
  await assert.rejects(model.encode(["ok", undefined]), /texts\[1\] is undefined/);
  await assert.rejects(model.search(7, ["a"]), /query must be a string, got number/);
  await assert.rejects(model.encode(["a"], { batchSize: 0 }), /batchSize must be a positive integer/);
});

test("an empty list gives an empty result", async () => {
  const model = await StaticOnnxModel.load(POTION);
  assert.deepEqual(await model.encode([]), []);
  const matrix = await model.encodeMatrix([]);
  assert.equal(matrix.rows, 0);
  assert.equal(matrix.data.length, 0);
  assert.deepEqual(await model.search("query", []), []);
});

test("a missing folder or file is rejected with the path and the remedy", async () => {
  await assert.rejects(StaticOnnxModel.load("/no/such/m2v-folder"), /\/no\/such\/m2v-folder\/config\.json: no such file; export/);
  const noModel = brokenCopy((f) => rmSync(join(f, "model.onnx")));
  await assert.rejects(StaticOnnxModel.load(noModel), /model\.onnx: no such file; export the model/);
  const noTokenizer = brokenCopy((f) => rmSync(join(f, "tokenizer.json")));
  await assert.rejects(StaticOnnxModel.load(noTokenizer), /tokenizer\.json: no such file/);
  const emptyModel = brokenCopy((f) => writeFileSync(join(f, "model.onnx"), ""));
  await assert.rejects(StaticOnnxModel.load(emptyModel), /model\.onnx: onnxruntime-web cannot load it .*re-export/);
});

test("corrupt files are rejected with clear messages", async () => {
  const truncated = brokenCopy((f) => writeFileSync(join(f, "model.onnx"), readFileSync(join(POTION, "model.onnx")).subarray(0, 4096)));
  await assert.rejects(StaticOnnxModel.load(truncated), /model\.onnx: onnxruntime-web cannot load it \(.*protobuf.*re-export/);
  const badConfig = brokenCopy((f) => writeFileSync(join(f, "config.json"), "{not json"));
  await assert.rejects(StaticOnnxModel.load(badConfig), /config\.json: not valid JSON/);
  const newer = brokenCopy((f) => {
    const config = JSON.parse(readFileSync(join(f, "config.json"), "utf-8"));
    writeFileSync(join(f, "config.json"), JSON.stringify({ ...config, format_version: 99 }));
  });
  await assert.rejects(StaticOnnxModel.load(newer), /format_version 99 is newer .*upgrade m2v-edge/);
  const missingKey = brokenCopy((f) => writeFileSync(join(f, "config.json"), JSON.stringify({ format_version: 1 })));
  await assert.rejects(StaticOnnxModel.load(missingKey), /missing keys .*"dim"/);
  const badTokenizer = brokenCopy((f) => writeFileSync(join(f, "tokenizer.json"), "[1, 2"));
  await assert.rejects(StaticOnnxModel.load(badTokenizer), /tokenizer\.json: not valid JSON/);
  const wrongTokenizer = brokenCopy((f) => writeFileSync(join(f, "tokenizer.json"), JSON.stringify({ model: { type: "Nope" } })));
  await assert.rejects(StaticOnnxModel.load(wrongTokenizer), /tokenizer\.json: unreadable tokenizer/);
});

test("files given as buffers load too; a missing one is named", async () => {
  const files = {
    model: readFileSync(join(POTION, "model.onnx")),
    tokenizer: readFileSync(join(POTION, "tokenizer.json")),
    config: readFileSync(join(POTION, "config.json"), "utf-8"),
  };
  const size = files.model.byteLength;
  const model = await StaticOnnxModel.load(files);
  assert.equal((await model.encode("hello")).length, 256);
  // Node Buffers run on the kernel too (a Buffer's `slice` is a view: its constants were once misread, so ORT ran)
  assert.equal(model.info.backend, "m2v-edge-kernel");
  assert.equal(files.model.byteLength, size, "the caller's bytes are never released");
  await assert.rejects(StaticOnnxModel.load({ ...files, model: undefined }), /source\.model is missing/);
  await assert.rejects(StaticOnnxModel.load(12), /source must be a folder URL or path/);
});

test("tokenizerWorkers: a bad count or a runtime without Web Workers is rejected with the remedy", async () => {
  await assert.rejects(StaticOnnxModel.load(POTION, { tokenizerWorkers: -1 }), /tokenizerWorkers must be an integer from 0 to 16, got -1/);
  await assert.rejects(StaticOnnxModel.load(POTION, { tokenizerWorkers: 1.5 }), /tokenizerWorkers must be an integer/);
  // Node has no global Worker: the option is for browsers.
  await assert.rejects(StaticOnnxModel.load(POTION, { tokenizerWorkers: 2 }), /tokenizerWorkers needs Web Workers \(browsers\)/);
  const model = await StaticOnnxModel.load(POTION, { tokenizerWorkers: 0 });
  assert.equal(model.pool, null);
  await model.dispose();
});
