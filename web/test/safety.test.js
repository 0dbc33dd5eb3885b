/**
 * Issue 10 in Node: broken or hostile exported folders are clear errors (the catalogue of tests/corrupt.py and
 * random config corruptions), the demo server survives malformed URLs and bad flags, the CLI writes safely.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { startServer } from "../demo/server.mjs";
import { StaticOnnxModel } from "../src/index.js";
import { FIXTURES, WEB, maxAbsDiff, tempDirs } from "./helpers.js";

const run = promisify(execFile);
const BIN = join(WEB, "bin", "m2v-edge.mjs");
const CORRUPT = join(FIXTURES, "corrupt");
if (!existsSync(join(CORRUPT, "cases.json"))) {
  throw new Error(`${CORRUPT}: fixtures missing; run \`.venv/bin/python scripts/make_corrupt_fixtures.py\` first`);
}
const MANIFEST = JSON.parse(readFileSync(join(CORRUPT, "cases.json"), "utf-8"));
const BASE = join(CORRUPT, "base");
const tempDir = tempDirs("safety");

function copyBase() {
  const folder = tempDir();
  cpSync(BASE, folder, { recursive: true }); // either layout (onnx/model_quantized.onnx or model.onnx)
  return folder;
}

async function loadsWithSameVectors(folder) {
  const model = await StaticOnnxModel.load(folder);
  const vectors = await model.encode(MANIFEST.probes);
  vectors.forEach((vector, i) => assert.ok(maxAbsDiff(vector, MANIFEST.vectors[i]) <= 1e-5, `probe ${i}`));
  await model.dispose();
}

for (const [name, expected] of Object.entries(MANIFEST.cases)) {
  test(`broken export ${name}: ${expected === null ? "same vectors" : "a clear error"}`, async () => {
    const folder = join(CORRUPT, name);
    if (expected === null) {
      await loadsWithSameVectors(folder);
      return;
    }
    await assert.rejects(StaticOnnxModel.load(folder), (err) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, new RegExp(expected));
      assert.equal(err.message.split("\n").length, 1, err.message);
      return true;
    });
  });
}

test("a graph that gives NaN for some tokens is an error at encode, never a NaN vector", async () => {
  const { folder, bad_text: badText, good_text: goodText } = MANIFEST.nan_rows;
  const model = await StaticOnnxModel.load(join(CORRUPT, folder)); // the load probe does not use those tokens
  assert.ok((await model.encode(goodText)).every(Number.isFinite));
  await assert.rejects(model.encode([goodText, badText]), /the graph gave NaN or inf; the file is corrupt/);
  await model.dispose();
});

/** A small seeded PRNG (mulberry32): the same corruptions on every run. */
function prng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("random config corruptions give a clear error or the same vectors", async () => {
  const random = prng(10);
  const pick = (items) => items[Math.floor(random() * items.length)];
  const keys = ["format_version", "dim", "vocab_size", "dtype", "normalize", "max_length", "median_token_length",
    "unk_token_id", "pad_token_id", "output", "model_type"];
  const values = [null, true, false, 0, -1, 1, 2, 1.5, 99, 4096, 1e9, -(2 ** 40), "", "1", "int8", "embeddings", [], [1],
    {}, { a: 1 }];
  const base = JSON.parse(readFileSync(join(BASE, "config.json"), "utf-8"));
  let errors = 0;
  for (let round = 0; round < 60; round++) {
    const config = structuredClone(base);
    const edits = 1 + Math.floor(random() * 3);
    for (let e = 0; e < edits; e++) {
      if (random() < 0.2) delete config[pick(keys)];
      else config[pick(keys)] = pick(values);
    }
    const folder = copyBase();
    writeFileSync(join(folder, "config.json"), JSON.stringify(config));
    try {
      await loadsWithSameVectors(folder);
    } catch (err) {
      if (err instanceof assert.AssertionError) throw new Error(`silent wrong vectors for ${JSON.stringify(config)}`, { cause: err });
      assert.ok(err instanceof Error && err.message.length > 0 && !err.message.includes("\n"), String(err));
      errors += 1;
    }
  }
  assert.ok(errors > 20, `only ${errors} of 60 corruptions were errors: the generator is too gentle`);
});

test("search topK must be a positive integer or null; lone surrogates are clear errors (as in Python)", async () => {
  const model = await StaticOnnxModel.load(BASE);
  for (const bad of [-1, 0, 1.5, "2", true]) {
    await assert.rejects(model.search("q", ["a", "b"], bad), /topK must be a positive integer or null/);
  }
  await assert.rejects(model.search("q", [], -1), /topK/);
  for (const bad of ["5", 0, -3, 1.5, true]) {
    await assert.rejects(model.encode(["a"], { maxLength: bad }), /maxLength must be a positive integer or null/);
  }
  assert.equal((await model.search("q", ["a", "b"], 1)).length, 1);
  await assert.rejects(model.encode(["fine", "ab\ud800c"]), /texts\[1\] holds a lone surrogate U\+D800 at position 2, not valid/);
  await assert.rejects(model.encode("\udcff"), /text holds a lone surrogate U\+DCFF at position 0/);
  await assert.rejects(model.encode(["🚀\udc00"]), /at position 1/); // positions count code points, as Python
  await model.dispose();
});

test("the demo server answers malformed URLs with 400 and keeps serving", async () => {
  const server = await startServer({ modelDir: BASE });
  try {
    for (const path of ["%", "%E0%A4%A", "model/%ff", "%00"]) {
      const response = await fetch(server.url + path);
      assert.ok([400, 404].includes(response.status), `${path}: ${response.status}`);
      if (path === "%") assert.equal(response.status, 400);
    }
    assert.equal((await fetch(`${server.url}model/config.json`)).status, 200);
  } finally {
    await server.close();
  }
});

test("the demo server rejects bad flags with one line, exit code 2", async () => {
  const server = join(WEB, "demo", "server.mjs");
  for (const [args, pattern] of [
    [["--bogus"], /Unknown option '--bogus'/],
    [["--port", "abc", BASE], /--port "abc" is not a TCP port/],
    [["--port", "70000", BASE], /is not a TCP port/],
    [[BASE, BASE], /one MODEL_DIR expected, got 2/],
  ]) {
    const failed = await run(process.execPath, [server, ...args]).then(() => null, (err) => err);
    assert.ok(failed, `${args} should fail`);
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, pattern);
    assert.equal(failed.stderr.trim().split("\n").length, 1, failed.stderr);
  }
});

test("CLI: --output - writes JSON to stdout, messages to stderr", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "in.txt"), "hello world\nThe quick brown fox\n");
  const { stdout, stderr } = await run(process.execPath, [BIN, "encode", BASE, "--input", join(dir, "in.txt"), "--output", "-"]);
  const vectors = JSON.parse(stdout);
  assert.equal(vectors.length, 2);
  assert.ok(maxAbsDiff(vectors[0], MANIFEST.vectors[0]) <= 1e-5);
  assert.match(stderr, /wrote <stdout> \(2 x 16 float32\)/);
  assert.ok(!existsSync(join(dir, "-")));
});

test("CLI: output equal to input, a folder, or too many threads is refused; writes leave no temp file", async () => {
  const dir = tempDir();
  const input = join(dir, "in.txt");
  writeFileSync(input, "hello\n");
  symlinkSync(input, join(dir, "link.txt"));
  mkdirSync(join(dir, "folder"));
  const cores = availableParallelism();
  for (const [extra, pattern] of [
    [["--output", input], /is also the input/],
    [["--output", join(dir, "link.txt")], /is also the input/],
    [["--output", join(dir, "folder")], /is a folder/],
    [["--output", join(dir, "o.json"), "--threads", "9999"], new RegExp(`--threads 9999 is out of range.*1-${cores}`)],
  ]) {
    const failed = await run(process.execPath, [BIN, "encode", BASE, "--input", input, ...extra]).then(() => null, (e) => e);
    assert.ok(failed, `${extra} should fail`);
    assert.equal(failed.code, 2);
    assert.match(failed.stderr, pattern);
  }
  assert.equal(readFileSync(input, "utf-8"), "hello\n");
  await run(process.execPath, [BIN, "encode", BASE, "--input", input, "--output", join(dir, "o.json")]);
  assert.deepEqual(readdirSync(dir).sort(), ["folder", "in.txt", "link.txt", "o.json"]);
});
