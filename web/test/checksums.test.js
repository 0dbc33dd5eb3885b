/**
 * Issue 24 #5 #6 #18 in Node: config.json's `files` checksums are checked at every load (folder path, files given
 * as bytes, the .ort graph, both engines), another model's graph is refused, exports without checksums load with
 * one notice, config paths follow the rules shared with Python, random bytes of any file give a clear error or the
 * same vectors, and onnxruntime's own log lines never reach the CLI's stderr.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { checkFolderPath } from "../src/config.js";
import { StaticOnnxModel } from "../src/index.js";
import { FIXTURES, ROOT, WEB, fixture, maxAbsDiff, tempDirs } from "./helpers.js";

const run = promisify(execFile);
const BASE = join(FIXTURES, "corrupt", "base");
const MANIFEST = JSON.parse(readFileSync(join(FIXTURES, "corrupt", "cases.json"), "utf-8"));
const PATHS = JSON.parse(readFileSync(join(ROOT, "tests", "data", "folder_paths.json"), "utf-8"));
const GRAPH = "onnx/model_quantized.onnx";
const ENGINES = ["kernel", "onnxruntime"];
const tempDir = tempDirs("checksums");

function copyOf(source, edit = () => {}) {
  const folder = tempDir();
  cpSync(source, folder, { recursive: true });
  edit(folder);
  return folder;
}

const editJson = (path, change) => writeFileSync(path, JSON.stringify(change(JSON.parse(readFileSync(path, "utf-8")))));
const dropChecksums = (folder) =>
  editJson(join(folder, "config.json"), (config) => {
    delete config.files;
    return config;
  });

function flip(folder, name, at, xor = 0xff) {
  const bytes = readFileSync(join(folder, name));
  bytes[Math.min(Math.floor(at * bytes.length), bytes.length - 1)] ^= xor;
  writeFileSync(join(folder, name), bytes);
}

function filesOf(folder) {
  return readdirSync(folder, { recursive: true })
    .map((name) => relative(folder, join(folder, name)).split("\\").join("/"))
    .filter((name) => statSync(join(folder, name)).isFile());
}

// First in this file: the notice is once per process.
test("an export without checksums loads with the same vectors and one console.warn", async () => {
  const folder = copyOf(BASE, dropChecksums);
  const warnings = [];
  const original = console.warn;
  console.warn = (...args) => warnings.push(args.join(" "));
  try {
    for (let i = 0; i < 2; i++) {
      const model = await StaticOnnxModel.load(folder);
      const vectors = await model.encode(MANIFEST.probes);
      vectors.forEach((vector, k) => assert.ok(maxAbsDiff(vector, MANIFEST.vectors[k]) <= 1e-6, `probe ${k}`));
    }
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /config\.json: no checksums in config\.json .*re-export the model/);
});

test("every file of an export is listed with its sha256", async () => {
  const config = JSON.parse(readFileSync(join(BASE, "config.json"), "utf-8"));
  assert.deepEqual(Object.keys(config.files).sort(), filesOf(BASE).filter((name) => name !== "config.json").sort());
});

test("a flipped graph byte or an edited tokenizer is refused on both engines, from a folder and from bytes", async () => {
  for (const engine of ENGINES) {
    const graph = copyOf(BASE, (f) => flip(f, GRAPH, 0.7));
    await assert.rejects(StaticOnnxModel.load(graph, { engine }), /onnx\/model_quantized\.onnx: sha256 [0-9a-f]{16} differs from config\.json's [0-9a-f]{16} .*re-export/);
    const tokenizer = copyOf(BASE, (f) => writeFileSync(join(f, "tokenizer.json"), readFileSync(join(f, "tokenizer.json"), "utf-8").replace('"quick"', '"qu1ck"')));
    await assert.rejects(StaticOnnxModel.load(tokenizer, { engine }), /tokenizer\.json: sha256 .* differs from config\.json/);
    const files = { model: readFileSync(join(graph, GRAPH)), tokenizer: readFileSync(join(BASE, "tokenizer.json")), config: readFileSync(join(BASE, "config.json")) };
    await assert.rejects(StaticOnnxModel.load(files, { engine }), /sha256 .* differs from config\.json/);
  }
});

test("the .ort graph is checked too", async () => {
  const folder = copyOf(fixture("potion-int8"), (f) => flip(f, "model.ort", 0.5));
  await assert.rejects(StaticOnnxModel.load(folder, { modelFile: "model.ort" }), /model\.ort: sha256 .* differs from config\.json/);
});

test("another model's graph of the same width is refused, with or without checksums", async () => {
  const other = join(fixture("unigram-int8"), "model.onnx"); // dim 16 like base, another table
  const mixed = copyOf(BASE, (f) => cpSync(other, join(f, GRAPH)));
  await assert.rejects(StaticOnnxModel.load(mixed), /differs from config\.json/);
  const old = copyOf(mixed, dropChecksums);
  await assert.rejects(StaticOnnxModel.load(old, { engine: "kernel" }), /the graph was exported for vocab_size 171, config\.json says 300/);
  await assert.rejects(StaticOnnxModel.load(old, { engine: "onnxruntime" }), /the graph fails on ids|exported for/);
});

test("config paths follow the rules shared with Python (tests/data/folder_paths.json)", () => {
  for (const path of PATHS.refused) {
    assert.throws(() => checkFolderPath(path, "files", "config.json"), /config\.json: files .* it must be a plain relative path inside the folder/, JSON.stringify(path));
  }
  for (const path of PATHS.accepted) assert.equal(checkFolderPath(path, "files", "config.json"), path);
});

/** A small seeded generator (mulberry32): the same cases on every run. */
function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test("property: random bytes of any file give a clear error or the same vectors (seeded, both engines)", async () => {
  const random = seeded(24);
  const names = filesOf(BASE);
  const outcomes = { error: 0, same: 0 };
  for (let i = 0; i < 80; i++) {
    const name = names[Math.floor(random() * names.length)];
    const changes = Array.from({ length: 1 + Math.floor(random() * 3) }, () => [random(), 1 + Math.floor(random() * 255)]);
    const folder = copyOf(BASE, (f) => changes.forEach(([at, xor]) => flip(f, name, at, xor)));
    const engine = ENGINES[i % 2];
    let vectors;
    try {
      const model = await StaticOnnxModel.load(folder, { engine });
      vectors = await model.encode(MANIFEST.probes);
      await model.dispose();
    } catch (err) {
      assert.ok(err instanceof Error && err.message.length > 0, `${name} ${changes}: ${err}`);
      assert.equal(err.message.split("\n").length, 1, err.message);
      outcomes.error++;
      continue;
    }
    vectors.forEach((vector, k) => assert.ok(maxAbsDiff(vector, MANIFEST.vectors[k]) <= 1e-6, `silent wrong vectors: ${name} ${JSON.stringify(changes)} (${engine})`));
    outcomes.same++;
  }
  assert.ok(outcomes.error > 0 && outcomes.same > 0, JSON.stringify(outcomes));
});

test("#18 the CLI's stderr is our one line, never onnxruntime's log (--backend web and node)", async () => {
  const input = join(tempDir(), "in.txt");
  writeFileSync(input, "hello\n");
  const folder = join(FIXTURES, "corrupt", "vocab_size_too_big");
  for (const backend of ["web", "node"]) {
    const cli = run(process.execPath, [join(WEB, "bin", "m2v-edge.mjs"), "encode", folder, "--input", input, "--output", "-", "--backend", backend]);
    const err = await cli.then(() => assert.fail("expected a failure"), (failure) => failure);
    assert.equal(err.code, 2, err.stderr);
    assert.equal(err.stderr.trim().split("\n").length, 1, err.stderr);
    assert.match(err.stderr, /the graph fails on ids/);
    assert.doesNotMatch(err.stderr, /onnxruntime:/);
  }
});
