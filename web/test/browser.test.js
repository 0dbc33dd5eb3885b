/**
 * Headless Chromium (Debian chromium + playwright-core): vectors equal Python's golden vectors, errors are
 * rejected promises, and the demo page ranks the expected document first (screenshot written to artifacts/, or to
 * docs/img/web-demo.png with M2V_EDGE_UPDATE_DOCS_IMAGES=1).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { launchChromium, openPage } from "./chromium.js";
import { FIXTURES, ROOT, WEB, fixture, pngSize, rehash, screenshotDir } from "./helpers.js";

let server;
let browser;
let broken;
let tampered;

before(async () => {
  broken = mkdtempSync(join(tmpdir(), "m2v-edge-broken-"));
  const potion = fixture("potion-int8");
  for (const name of ["tokenizer.json", "config.json"]) copyFileSync(join(potion, name), join(broken, name));
  writeFileSync(join(broken, "model.onnx"), readFileSync(join(potion, "model.onnx")).subarray(0, 4096));
  rehash(broken); // consistent checksums: onnxruntime-web's refusal is the one tested
  tampered = mkdtempSync(join(tmpdir(), "m2v-edge-tampered-"));
  for (const name of ["tokenizer.json", "config.json"]) copyFileSync(join(potion, name), join(tampered, name));
  const graph = readFileSync(join(potion, "model.onnx"));
  graph[graph.length >> 1] ^= 0x5a; // inside the table: a silently different vector without the checksum
  writeFileSync(join(tampered, "model.onnx"), graph);
  server = await startServer({
    modelDir: potion,
    mounts: { "/test/": join(WEB, "test"), "/fixtures/": FIXTURES, "/data/": join(ROOT, "tests", "data"), "/broken/": broken, "/tampered/": tampered },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
  for (const folder of [broken, tampered]) if (folder) rmSync(folder, { recursive: true, force: true });
});

// Each fixture on the default engine (the pooling kernel; unigram-dim20: a padded copy of the table); the Qwen-sized
// and potion ones also on onnxruntime-web
// (2 WASM threads: the threaded build; the default: half the cores).
const PARITY = [
  ["potion-int8", {}],
  ["qwen-1024-int8", {}],
  ["unigram-int8", {}],
  ["unigram-dim20-int8", {}],
  ["qwen-1024-int8", { engine: "onnxruntime", threads: 2 }],
  ["potion-int8", { engine: "onnxruntime" }],
];
for (const [name, options] of PARITY) {
  test(`Chromium vectors and ids match Python for ${name} ${JSON.stringify(options)}`, async (t) => {
    fixture(name);
    const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
    const result = await page.evaluate(([model, o]) => window.parity(model, o), [name, options]);
    await page.close();
    t.diagnostic(
      `${name}: ${result.n} texts, max abs diff ${result.maxDiff.toExponential(2)}, load ${result.info.loadMs.toFixed(0)} ms, ` +
        `encode ${result.encodeMs.toFixed(0)} ms, ${result.info.backend}, ${result.info.threads} threads, isolated ${result.isolated}, ` +
        `JS heap ${result.memory === null ? "?" : (result.memory / 1e6).toFixed(0)} MB`,
    );
    assert.deepEqual(result.idMismatches, [], "texts whose ids differ from Python's");
    assert.ok(result.overBound <= 1, `max abs diff ${result.maxDiff}: ${result.overBound.toFixed(2)}x the float32 summation bound`);
    assert.equal(result.isolated, true, "the server sends COOP/COEP, so the page must be cross-origin isolated");
    const ort = options.engine === "onnxruntime";
    assert.equal(result.info.backend, ort ? "onnxruntime-web" : "m2v-edge-kernel");
    const expected = ort ? (options.threads ?? Math.max(1, Math.min(Math.ceil(result.cores / 2), 4))) : 1;
    assert.equal(result.info.threads, expected);
    // fetched into the kernel's memory and pooled from there, but for rows the kernel pads in a copy (20 columns)
    if (!ort) assert.equal(result.info.tableInPlace, result.info.dim % 16 === 0, "table in place");
    assert.deepEqual(page.problems, []);
  });
}

for (const name of ["potion-int8", "qwen-1024-int8"]) {
  test(`Chromium with tokenizerWorkers: ids and vectors match Python for ${name}`, async (t) => {
    fixture(name);
    const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
    const result = await page.evaluate((model) => window.poolParity(model, 2, 12), name);
    await page.close();
    t.diagnostic(`${name}: ${result.n} texts through 2 tokenizer workers, max abs diff ${result.maxToPython.toExponential(2)}`);
    assert.equal(result.pooledWorkers, 2);
    assert.ok(result.n >= 512, "enough texts for more than one chunk");
    assert.deepEqual(result.idMismatches, [], "texts whose worker ids differ from Python's");
    assert.ok(result.maxToPython <= 1e-5, `max abs diff ${result.maxToPython}`);
    assert.match(result.disposed, /tokenizer pool terminated/);
    assert.deepEqual(page.problems, []);
  });
}

test("Chromium: model.ort gives the same vectors as model.onnx, both equal to Python's", async (t) => {
  const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
  const result = await page.evaluate(() => window.ortParity("potion-int8", "unigram-int8"));
  await page.close();
  t.diagnostic(
    `potion-int8: ${result.n} texts, ort vs onnx ${result.between.toExponential(2)}, ort vs Python ` +
      `${result.ortToPython.toExponential(2)}, onnx vs Python ${result.onnxToPython.toExponential(2)}`,
  );
  assert.deepEqual(result.files, ["model.onnx", "model.ort"]);
  const sizes = ["model.onnx", "model.ort"].map((f) => statSync(join(fixture("potion-int8"), f)).size);
  assert.deepEqual(result.bytes, sizes);
  assert.ok(result.nonZero > result.n / 2, "the corpus gives non-zero vectors");
  assert.ok(result.between <= 1e-6, `model.ort vs model.onnx: max abs diff ${result.between}`);
  assert.ok(result.ortToPython <= 1e-5, `model.ort vs Python: max abs diff ${result.ortToPython}`);
  assert.ok(result.onnxToPython <= 1e-5, `model.onnx vs Python: max abs diff ${result.onnxToPython}`);
  assert.match(result.badName, /modelFile must be "model\.onnx" or "model\.ort", got "model\.bin"/);
  assert.match(result.missing, /\/fixtures\/unigram-int8\/model\.ort: HTTP 404; .*m2v-edge export --target mobile/);
  assert.deepEqual(page.problems.filter((p) => !p.includes("/unigram-int8/model.ort")), []);
});

test("a page that is not cross-origin isolated runs one thread, with the same vectors", async () => {
  const plain = await startServer({
    isolated: false,
    mounts: { "/test/": join(WEB, "test"), "/fixtures/": FIXTURES, "/data/": join(ROOT, "tests", "data") },
  });
  try {
    const page = await openPage(browser.context, `${plain.url}test/browser/harness.html`);
    const result = await page.evaluate(() => window.parity("potion-int8", { engine: "onnxruntime" }));
    await page.close();
    assert.equal(result.isolated, false);
    assert.equal(result.info.threads, 1);
    assert.deepEqual(result.idMismatches, []);
    assert.ok(result.overBound <= 1, `max abs diff ${result.maxDiff}: ${result.overBound.toFixed(2)}x the float32 summation bound`);
  } finally {
    await plain.close();
  }
});

test("Chromium: errors are rejected promises with clear messages", async () => {
  const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
  const got = await page.evaluate(() => window.errors());
  const shown = JSON.stringify(got, null, 1);
  assert.match(got.nonString, /texts must be a string or an array of strings, got number/, shown);
  assert.match(got.badItem, /texts\[1\] is object, expected a string/, shown);
  assert.equal(got.empty, "[]", shown);
  assert.match(got.missingFolder, /\/fixtures\/no-such-model\/config\.json: HTTP 404; serve the exported folder's config\.json there/, shown);
  assert.match(got.corruptModel, /\/broken\/model\.onnx: onnxruntime-web cannot load it .*re-export the model/, shown);
  // WebCrypto checks the checksums on both engines.
  for (const key of ["tamperedKernel", "tamperedOrt"]) {
    assert.match(got[key], /\/tampered\/model\.onnx: sha256 [0-9a-f]{16} differs from config\.json's [0-9a-f]{16}/, shown);
  }
  await page.close();
  const fresh = await openPage(browser.context, `${server.url}test/browser/harness.html`);
  const wrongWasm = await fresh.evaluate(() => window.wrongWasm());
  // The files the page's onnxruntime-web/wasm build asks for (not the JSEP ones).
  assert.match(
    wrongWasm,
    /onnxruntime-web could not load its WebAssembly from "\/no-such-ort\/" .*; serve ort-wasm-simd-threaded\.wasm and ort-wasm-simd-threaded\.mjs there or pass the right `wasmPaths`/,
    wrongWasm,
  );
  await fresh.close();
});

test("the demo page ranks the training tutorial first; screenshot saved", async () => {
  const page = await openPage(browser.context, server.url);
  await page.evaluate(() => window.m2vDemo.ready);
  await page.fill("#documents", "Neural network training tutorial and guide\nNeural networks in biology\nMachine learning frameworks");
  await page.fill("#query", "How do I train a neural network?");
  const before = await page.evaluate(() => window.m2vDemo.searches);
  await page.click("#search");
  await page.waitForFunction((n) => window.m2vDemo.searches > n, before);
  const items = await page.locator("#results li").allInnerTexts();
  assert.equal(items.length, 3);
  assert.match(items[0], /^\d\.\d{3}\s*Neural network training tutorial and guide$/);
  const hits = await page.evaluate(() => window.m2vDemo.lastHits);
  assert.equal(hits[0].index, 0);
  assert.ok(hits[0].score > hits[1].score);
  assert.match(await page.locator("#status").innerText(), /model loaded in \d+ ms .*cross-origin isolated/);
  assert.match(await page.locator("#timing").innerText(), /ms for this query/);
  const screenshot = join(screenshotDir(), "web-demo.png");
  rmSync(screenshot, { force: true });
  await page.screenshot({ path: screenshot });
  const png = pngSize(screenshot);
  assert.deepEqual([png.width, png.height], [1280, 720], `${screenshot}: the viewport's size`);
  assert.ok(png.bytes > 10_000, `${screenshot}: ${png.bytes} bytes, too small for the rendered page`);
  assert.deepEqual(page.problems, []);
  await page.close();
});
