/**
 * React Native's code path, run in Node: the recipe module (examples/react-native/embeddings.js) bundled with
 * esbuild under the "react-native" condition, as Metro resolves it; onnxruntime-react-native replaced by a
 * stand-in on onnxruntime-node (test/fake-ort-react-native.js); files read through `loadFile`, as from an app
 * bundle. The bundle must hold no onnxruntime-web and no Node module.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

import { build } from "esbuild";

import { StaticOnnxModel } from "../src/core.js";
import { WEB, fixture, golden, maxAbsDiff, trickyTexts } from "./helpers.js";

const work = mkdtempSync(join(tmpdir(), "m2v-edge-rn-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The app's bundled files: path -> bytes (what react-native-fs gives after base64 decoding). */
function appBundle() {
  const files = new Map();
  for (const name of ["config.json", "tokenizer.json", "model.onnx"]) {
    files.set(`models/potion-int8/${name}`, new Uint8Array(readFileSync(join(fixture("potion-int8"), name))));
  }
  const reads = [];
  const readAsset = async (path) => {
    reads.push(path);
    if (!files.has(path)) throw new Error(`no asset ${path}`);
    return files.get(path);
  };
  return { readAsset, reads };
}

test("the React Native recipe, bundled as Metro would, ranks the seed card's example on the stand-in backend", async (t) => {
  mkdirSync(join(work, "node_modules"));
  symlinkSync(WEB, join(work, "node_modules", "m2v-edge"));
  symlinkSync(join(WEB, "node_modules", "onnxruntime-node"), join(work, "node_modules", "onnxruntime-node"));
  const out = join(work, "app.mjs");
  const result = await build({
    entryPoints: [join(WEB, "examples", "react-native", "embeddings.js")],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["react-native", "module", "main"],
    conditions: ["react-native"],
    nodePaths: [join(work, "node_modules")],
    alias: { "onnxruntime-react-native": join(WEB, "test", "fake-ort-react-native.js") },
    external: ["onnxruntime-node"],
    outfile: out,
    metafile: true,
    logLevel: "silent",
  });
  assert.deepEqual(result.warnings, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((p) => p.endsWith("src/core.js")), "m2v-edge resolved to its react-native entry");
  assert.deepEqual(inputs.filter((p) => /onnxruntime-web|files-node|src\/index\.js|src\/browser\.js/.test(p)), []);
  const code = readFileSync(out, "utf-8");
  assert.doesNotMatch(code, /from\s*["']node:|import\(["']node:/, "no Node module in the React Native bundle");
  t.diagnostic(`React Native bundle: ${(code.length / 1024).toFixed(0)} kB of JS, ${inputs.length} modules`);

  const app = await import(pathToFileURL(out).href);
  const { readAsset, reads } = appBundle();
  const model = await app.loadModel("models/potion-int8", readAsset);
  assert.deepEqual(reads.sort(), ["models/potion-int8/config.json", "models/potion-int8/model.onnx", "models/potion-int8/tokenizer.json"]);
  assert.equal(model.info.backend, "onnxruntime-react-native");
  const hits = await app.search(model, "How do I train a neural network?", [
    "Neural networks in biology",
    "Neural network training tutorial and guide",
    "Machine learning frameworks",
  ]);
  assert.equal(hits[0].document, "Neural network training tutorial and guide");
  assert.ok(hits[0].score > hits[1].score);
  const gold = golden("potion-int8");
  const texts = trickyTexts().slice(0, 20);
  const vectors = await model.encode(texts);
  vectors.forEach((v, i) => assert.ok(maxAbsDiff(v, gold.vectors[i]) <= 1e-5, `text ${i}`));
  // What the library asked of the backend: one session from the bundled bytes, CPU provider, int64 inputs.
  const calls = globalThis.m2vOrtStandInCalls;
  const creates = calls.filter((c) => c.call === "create");
  assert.equal(creates.length, 1);
  assert.equal(creates[0].bytes, readFileSync(join(fixture("potion-int8"), "model.onnx")).length);
  assert.deepEqual(creates[0].options.executionProviders, ["cpu"]);
  const run = calls.find((c) => c.call === "run");
  assert.equal(run.inputs.input_ids[0], "int64");
  assert.equal(run.inputs.input_ids.length, 3, "input_ids is [rows, tokens]");
});

test("m2v-edge/core has no default backend: load without { ort } says what to pass", async () => {
  await assert.rejects(
    StaticOnnxModel.load("models/potion-int8", { loadFile: () => new Uint8Array(), engine: "onnxruntime" }),
    /no ONNX Runtime backend: pass \{ ort \} \(onnxruntime-react-native, onnxruntime-node or onnxruntime-web\)/,
  );
});

test("loadFile failures and bad loadFile values name the file", async () => {
  const ort = await import("./fake-ort-react-native.js");
  await assert.rejects(
    StaticOnnxModel.load("models/missing", { ort, loadFile: async (path) => Promise.reject(new Error(`no asset ${path}`)) }),
    /models\/missing\/config\.json: loadFile failed \(no asset models\/missing\/config\.json\); bundle the exported folder's config\.json/,
  );
  await assert.rejects(StaticOnnxModel.load("models/x", { ort, loadFile: "yes" }), /loadFile must be a function/);
});
