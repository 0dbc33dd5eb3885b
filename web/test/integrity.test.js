/**
 * Issue 24, the JavaScript side: no silent wrong vectors (a short table, ids a tokenizer cannot give), nothing
 * loaded or served from outside the folder, `.m2vec` files of exactly their size, a CLI that streams its output,
 * NaN queries and `topK: true` refused, and one line for an unknown command.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { startServer } from "../demo/server.mjs";
import { checkFolderPath } from "../src/config.js";
import { StaticOnnxModel, VectorFile } from "../src/index.js";
import { rank } from "../src/similarity.js";
import { FIXTURES, WEB, fixture, maxAbsDiff, rehash, tempDirs } from "./helpers.js";

const run = promisify(execFile);
const BIN = join(WEB, "bin", "m2v-edge.mjs");
const tempDir = tempDirs("integrity");

/** A copy of the potion fixture, `edit(folder)` applied. */
function copyOf(name, edit) {
  const folder = join(tempDir(), name);
  cpSync(fixture("potion-int8"), folder, { recursive: true });
  edit(folder);
  rehash(folder); // consistent checksums: the deeper check is the one tested
  return folder;
}

const varint = (n) => {
  const out = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n & 0x7f) | 0x80);
  return [...out, n];
};

/** Rewrite an initializer's first dim (`0x08 varint(from)` before `0x08 varint(second)` and `0x10 type`): same length. */
function growFirstDim(bytes, [from, second], dataType) {
  const pattern = [0x08, ...varint(from), ...(second === undefined ? [] : [0x08, ...varint(second)]), 0x10, dataType];
  const at = bytes.findIndex((_, i) => pattern.every((b, k) => bytes[i + k] === b));
  assert.ok(at >= 0, "initializer found");
  const grown = varint(from + 1);
  assert.equal(grown.length, varint(from).length);
  const out = Uint8Array.from(bytes);
  out.set(grown, at + 1);
  return out;
}

test("#4 a table (or any initializer) shorter than its dims is refused on every engine, naming the file", async () => {
  const config = JSON.parse(readFileSync(join(fixture("potion-int8"), "config.json"), "utf-8"));
  const table = copyOf("short-table", (folder) => {
    const path = join(folder, "model.onnx");
    writeFileSync(path, growFirstDim(readFileSync(path), [config.vocab_size, config.dim], 3));
  });
  const message = /model\.onnx: initializer table holds 7559168 bytes, but its dims \[29529, 256\] of ONNX type 3 need 7559424; the file is corrupt or truncated, re-export the model/;
  await assert.rejects(StaticOnnxModel.load(table), message);
  await assert.rejects(StaticOnnxModel.load(table, { engine: "kernel" }), message);
  await assert.rejects(StaticOnnxModel.load(table, { engine: "onnxruntime" }), /model\.onnx/);
  // Another initializer: a per-token scale declared one entry longer than stored.
  const scale = join(FIXTURES, "kernel", "scale-normalize.onnx");
  const folder = copyOf("short-scale", () => {});
  writeFileSync(join(folder, "model.onnx"), growFirstDim(readFileSync(scale), [60], 1));
  rehash(folder);
  await assert.rejects(StaticOnnxModel.load(folder), /initializer token_scale holds 240 bytes, but its dims \[61\] of ONNX type 1 need 244/);
});

test("#6 model_file must be a plain relative path after every decoding, over HTTP and from disk", async () => {
  const bad = ["%2e%2e/other/model.onnx", "%252e%252e/other/model.onnx", "..\\other\\model.onnx", "/etc/model.onnx", "https://example.com/model.onnx", "//example.com/model.onnx", "C:/model.onnx", "onnx/./model.onnx", "onnx//model.onnx", "%2fetc/model.onnx", "a%00.onnx"];
  for (const path of bad) assert.throws(() => checkFolderPath(path, "model_file", "config.json"), /config\.json: model_file .* it must be a plain relative path inside the folder/, path);
  assert.equal(checkFolderPath("onnx/model_quantized.onnx", "model_file", "config.json"), "onnx/model_quantized.onnx");
  const root = tempDir();
  cpSync(fixture("potion-int8"), join(root, "other"), { recursive: true });
  cpSync(fixture("potion-int8"), join(root, "model"), { recursive: true });
  const configPath = join(root, "model", "config.json");
  const config = JSON.parse(readFileSync(configPath, "utf-8"));
  writeFileSync(configPath, JSON.stringify({ ...config, model_file: "%2e%2e/other/model.onnx" }));
  rmSync(join(root, "model", "model.onnx"));
  const requests = [];
  const server = await startServer({ mounts: { "/root/": root }, onRequest: (path) => requests.push(path) });
  try {
    await assert.rejects(StaticOnnxModel.load(`${server.url}root/model/`), /model_file "%2e%2e\/other\/model\.onnx" has an empty, \. or \.\. segment/);
    assert.ok(!requests.some((path) => path.includes("other")), `requested ${requests}`);
  } finally {
    await server.close();
  }
  await assert.rejects(StaticOnnxModel.load(join(root, "model")), /must be a plain relative path inside the folder/);
});

/** GET a raw request path (not normalized by a URL parser). */
function get(url, path) {
  const { hostname, port } = new URL(url);
  return new Promise((ok, fail) => {
    request({ hostname, port, path }, (response) => {
      const chunks = [];
      response.on("data", (chunk) => chunks.push(chunk));
      response.on("end", () => ok({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
    })
      .on("error", fail)
      .end();
  });
}

test("#7 the demo server serves only regular files whose real path is inside the folder", async () => {
  const root = tempDir();
  const served = join(root, "served");
  mkdirSync(join(served, "sub"), { recursive: true });
  writeFileSync(join(root, "secret.txt"), "secret");
  mkdirSync(join(root, "outside"));
  writeFileSync(join(root, "outside", "also.txt"), "secret too");
  writeFileSync(join(served, "sub", "ok.txt"), "fine");
  symlinkSync(join(root, "secret.txt"), join(served, "x.txt"));
  symlinkSync("/etc/passwd", join(served, "passwd.txt"));
  symlinkSync(join(root, "outside"), join(served, "dir"));
  symlinkSync(join(served, "sub", "ok.txt"), join(served, "inside-link.txt"));
  const server = await startServer({ modelDir: served });
  try {
    assert.deepEqual(await get(server.url, "/model/sub/ok.txt"), { status: 200, body: "fine" });
    assert.equal((await get(server.url, "/model/inside-link.txt")).body, "fine", "a symlink within the folder is fine");
    for (const path of ["/model/x.txt", "/model/passwd.txt", "/model/dir/also.txt", "/model/../secret.txt", "/model/%2e%2e/secret.txt", "/model/sub/..%2f..%2fsecret.txt", "/model/sub", "/model/", "/model/sub%00.txt"]) {
      const { status, body } = await get(server.url, path);
      assert.ok(status === 404 || status === 400, `${path}: ${status}`);
      assert.doesNotMatch(body, /^secret|root:/, path);
    }
  } finally {
    await server.close();
  }
});

/** A `.m2vec` file (docs/scale.md) holding `rows` int8 rows of `dim` but whose header says `count`. */
function m2vec(count, rows, dim) {
  const scalesAt = Math.ceil((64 + rows * dim) / 4) * 4;
  const bytes = new Uint8Array(scalesAt + 4 * rows);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode("M2VEVEC\0"));
  view.setUint16(8, 1, true);
  view.setUint16(10, 1, true);
  view.setUint32(12, dim, true);
  view.setBigUint64(16, BigInt(count), true);
  for (let i = 0; i < rows * dim; i++) bytes[64 + i] = (i * 37) % 200;
  for (let r = 0; r < rows; r++) view.setFloat32(scalesAt + 4 * r, 0.01, true);
  return bytes;
}

test("#9 a .m2vec file must be exactly header + count rows: a smaller or larger count is refused", async () => {
  const exact = await VectorFile.fromBuffer(m2vec(5, 5, 8));
  assert.equal(exact.count, 5);
  await assert.rejects(VectorFile.fromBuffer(m2vec(3, 5, 8)), /vector file has \d+ bytes past its 3 rows/);
  await assert.rejects(VectorFile.fromBuffer(m2vec(7, 5, 8)), /vector file is truncated/);
  const grown = new Uint8Array(m2vec(5, 5, 8).length + 4);
  grown.set(m2vec(5, 5, 8));
  await assert.rejects(VectorFile.fromBuffer(grown), /4 bytes past its 5 rows/);
});

test("#13 the CLI streams its output: 200k texts to .npy in bounded memory, and to JSON", async () => {
  const dir = tempDir();
  const words = ["the", "quick", "brown", "fox", "café", "🤖", "neural", "network", "data", "x"];
  const texts = Array.from({ length: 200_000 }, (_, i) => Array.from({ length: i % 5 }, (_, k) => words[(i * 7 + k * 3) % words.length]).join(" "));
  writeFileSync(join(dir, "in.txt"), `${texts.join("\n")}\n`);
  // A 192 MB heap: holding the vectors (205 MB of float32) or their JSON text whole could not fit.
  const args = ["--max-old-space-size=192", BIN, "encode", fixture("potion-int8"), "--input", join(dir, "in.txt")];
  const { stdout } = await run(process.execPath, [...args, "--output", join(dir, "out.npy")], { timeout: 120_000 });
  assert.match(stdout, /wrote .*out\.npy \(200000 x 256 float32\)/);
  const npy = readFileSync(join(dir, "out.npy"));
  const headerLength = npy.readUInt16LE(8);
  assert.match(npy.subarray(10, 10 + headerLength).toString("latin1"), /'descr': '<f4', 'fortran_order': False, 'shape': \(200000, 256\)/);
  assert.equal(npy.length, 10 + headerLength + 200_000 * 256 * 4);
  const model = await StaticOnnxModel.load(fixture("potion-int8"));
  const rows = [0, 1, 4097, 199_999];
  const want = await model.encode(rows.map((i) => texts[i]));
  const data = new Float32Array(npy.buffer.slice(npy.byteOffset + 10 + headerLength));
  rows.forEach((i, n) => assert.ok(maxAbsDiff(data.subarray(i * 256, (i + 1) * 256), want[n]) <= 1e-6, `row ${i}`));
  const some = texts.slice(0, 9000);
  writeFileSync(join(dir, "some.txt"), `${some.join("\n")}\n`);
  await run(process.execPath, [BIN, "encode", fixture("potion-int8"), "--input", join(dir, "some.txt"), "--output", join(dir, "out.json")]);
  const json = JSON.parse(readFileSync(join(dir, "out.json"), "utf-8"));
  assert.equal(json.length, 9000);
  assert.ok(maxAbsDiff(json[4097], data.subarray(4097 * 256, 4098 * 256)) <= 1e-6);
});

test("#14 tokenizer.json ids: negative, fractional or beyond the table's rows are refused at load", async () => {
  const edit = (name, change) =>
    copyOf(name, (folder) => {
      const path = join(folder, "tokenizer.json");
      const tokenizer = JSON.parse(readFileSync(path, "utf-8"));
      change(tokenizer);
      writeFileSync(path, JSON.stringify(tokenizer));
    });
  const negative = edit("negative", (t) => (t.model.vocab.dog = -5));
  await assert.rejects(StaticOnnxModel.load(negative), /tokenizer\.json gives "dog" the id -5, not a non-negative integer/);
  const fraction = edit("fraction", (t) => (t.model.vocab.dog = 2.5));
  await assert.rejects(StaticOnnxModel.load(fraction), /the id 2\.5, not a non-negative integer/);
  const beyond = edit("beyond", (t) => (t.model.vocab.dog = 50_000));
  await assert.rejects(StaticOnnxModel.load(beyond), /tokenizer\.json can produce ids up to 50000 but the table has 29528 rows/);
  const added = edit("added", (t) => t.added_tokens.push({ ...t.added_tokens[0], id: -1, content: "[NEG]" }));
  await assert.rejects(StaticOnnxModel.load(added), /gives "\[NEG\]" the id -1/);
});

test("#16 NaN or inf in a query vector is an error, never NaN scores; topK must be a positive integer", async () => {
  const file = await VectorFile.fromBuffer(m2vec(5, 5, 8));
  const query = [1, 2, 3, 4, 5, 6, 7, 8];
  assert.equal(file.search([query], 2)[0].length, 2);
  assert.throws(() => file.search([[...query.slice(0, 7), NaN]], 2), /query 0 holds NaN at position 7; a query vector must be finite/);
  assert.throws(() => file.search([[Infinity, ...query.slice(1)]], 2), /query 0 holds Infinity at position 0/);
  for (const topK of [true, 0, 1.5, "2"]) assert.throws(() => file.search([query], topK), /topK must be a positive integer/);
  assert.throws(() => rank([NaN, 1], [[1, 0]], ["a"]), /query holds NaN at position 0/);
  assert.throws(() => rank([1, 0], [[1, 0]], ["a"], true), /topK must be a positive integer or null, got true/);
  const model = await StaticOnnxModel.load(fixture("potion-int8"));
  await assert.rejects(model.search("q", ["a", "b"], true), /topK must be a positive integer or null, got true/);
});

test("#20 an unknown command is one line naming it and --help, exit 2", async () => {
  const err = await run(process.execPath, [BIN, "frobnicate"]).then(() => assert.fail("accepted"), (e) => e);
  assert.equal(err.code, 2);
  assert.equal(err.stderr, 'm2v-edge: error: unknown command "frobnicate"; the one command is encode (see m2v-edge --help)\n');
  assert.equal(err.stdout, "");
});
