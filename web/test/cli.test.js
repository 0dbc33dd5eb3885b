/** `node bin/m2v-edge.mjs encode`: one text per line in, a JSON array of vectors out, equal to Python's. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

import { WEB, fixture, golden, maxAbsDiff, trickyTexts, tempDirs } from "./helpers.js";

const run = promisify(execFile);
const BIN = join(WEB, "bin", "m2v-edge.mjs");
const tempDir = tempDirs("cli");

test("encode writes one vector per line, equal to Python's", async () => {
  const texts = trickyTexts();
  const gold = golden("potion-int8");
  const picked = texts.map((text, i) => [text, i]).filter(([text]) => !text.includes("\n") && !text.includes("\r"));
  assert.ok(picked.length > 30);
  const dir = tempDir();
  writeFileSync(join(dir, "in.txt"), `${picked.map(([text]) => text).join("\n")}\n`);
  const { stdout } = await run(process.execPath, [BIN, "encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "out.json")]);
  assert.match(stdout, new RegExp(`wrote .*out\\.json \\(${picked.length} x 256 float32\\)`));
  const vectors = JSON.parse(readFileSync(join(dir, "out.json"), "utf-8"));
  assert.equal(vectors.length, picked.length);
  picked.forEach(([, i], row) => assert.ok(maxAbsDiff(vectors[row], gold.vectors[i]) <= 1e-5, `line ${row}`));
});

test("--model-file model.ort gives the same vectors as model.onnx", async () => {
  const texts = ["How do I train a neural network?", "Neural networks in biology", "naïve café 🤖", ""];
  const dir = tempDir();
  writeFileSync(join(dir, "in.txt"), `${texts.join("\n")}\n`);
  const outputs = {};
  for (const file of ["model.onnx", "model.ort"]) {
    const out = join(dir, `${file}.json`);
    await run(process.execPath, [BIN, "encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", out, "--model-file", file]);
    outputs[file] = JSON.parse(readFileSync(out, "utf-8"));
  }
  assert.equal(outputs["model.ort"].length, texts.length);
  assert.ok(outputs["model.ort"][0].some((x) => x !== 0));
  assert.ok(maxAbsDiff(outputs["model.ort"].flat(), outputs["model.onnx"].flat()) <= 1e-6);
});

test("--backend kernel, web and node give the same vectors", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "in.txt"), "How do I train a neural network?\nNeural networks in biology\n");
  const outputs = [];
  for (const backend of ["kernel", "web", "node"]) {
    const out = join(dir, `${backend}.json`);
    await run(process.execPath, [BIN, "encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", out, "--backend", backend]);
    outputs.push(JSON.parse(readFileSync(out, "utf-8")));
  }
  assert.equal(outputs[2].length, 2);
  assert.ok(outputs[2][0].some((x) => x !== 0));
  assert.ok(maxAbsDiff(outputs[0].flat(), outputs[2].flat()) <= 1e-5);
  assert.ok(maxAbsDiff(outputs[1].flat(), outputs[2].flat()) <= 1e-5);
});

test("user errors print one line and exit with code 2", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "in.txt"), "hello\n");
  const cases = [
    [["encode", fixture("potion-int8"), "--input", join(dir, "missing.txt"), "--output", join(dir, "o.json")], /missing\.txt: no such input file/],
    [["encode", fixture("potion-int8"), "--input", join(dir, "in.txt")], /^m2v-edge: error: encode needs --output FILE; see m2v-edge --help\n$/],
    [["encode", "--output", join(dir, "o.json")], /^m2v-edge: error: encode needs MODEL_DIR, --input FILE; see m2v-edge --help\n$/],
    [["encode", "a", "b", "--input", join(dir, "in.txt"), "--output", join(dir, "o.json")], /^m2v-edge: error: encode takes one MODEL_DIR, got 2: "a" "b"; see m2v-edge --help\n$/],
    [["encode", join(dir, "nope"), "--input", join(dir, "in.txt"), "--output", join(dir, "o.json")], /nope\/config\.json: no such file/],
    [["encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "no", "o.json")], /no: output folder does not exist/],
    [["encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "o.json"), "--threads", "0"], /--threads must be a positive integer/],
    [["encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "o.json"), "--model-file", "model.bin"], /--model-file must be model\.onnx or model\.ort, got "model\.bin"/],
    [["encode", fixture("unigram-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "o.json"), "--model-file", "model.ort"], /model\.ort: no such file; export the model with `m2v-edge export --target mobile`/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["encode", fixture("potion-int8"), "--input", join(dir, "in.txt"), "--output", join(dir, "o.json"), "--backend", "gpu"], /--backend must be auto, kernel, web or node, got "gpu"/],
  ];
  for (const [args, pattern] of cases) {
    const err = await run(process.execPath, [BIN, ...args], { timeout: 30000 }).then(
      () => assert.fail(`expected failure for ${args.join(" ")}`),
      (e) => e,
    );
    assert.equal(err.code, 2);
    assert.match(err.stderr, pattern);
    assert.doesNotMatch(err.stderr, /at .*\.js:\d+/, "no stack trace");
  }
});
