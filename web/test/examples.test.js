/**
 * The example apps (web/examples/) with the packed tarball installed, as a user builds them: vite, esbuild,
 * webpack 5, rollup and Next.js (app router, a client component), each with and without onnxruntime-web
 * installed. An int8-only app builds with zero warnings, ships no wasm and no ONNX Runtime code, emits m2v-edge's
 * tokenizer Worker, and ranks the seed card's example (tutorial first) in headless Chromium on the pooling kernel;
 * the vite and esbuild apps also in a module Worker, with loading progress and the Cache API (the second load
 * does not download the model). An app on `m2v-edge/ort` (vite) ships onnxruntime-web's plain wasm, which runs the
 * graph. And the Node script on the kernel, onnxruntime-web and onnxruntime-node.
 * M2V_EDGE_SKIP_NEXT=1 leaves out the Next.js app (its install and build take about a minute per variant).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { launchChromium, openPage } from "./chromium.js";
import { fixture } from "./helpers.js";
import { human, installExample, pack, sh, sizes } from "./pack.js";

const sha = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");
const TUTORIAL = "Neural network training tutorial and guide";
const MODEL = fixture("potion-int8");
/** Each browser app: what its build writes (and is served from), how it reports its warnings. */
const BUNDLERS = {
  "vite-app": { out: "dist", served: "dist" },
  "esbuild-app": { out: "dist", served: "." },
  "webpack-app": { out: "dist", served: "dist" },
  "rollup-app": { out: "dist", served: "dist" },
  "next-app": { out: "out", served: "out" },
};
const NAMES = Object.keys(BUNDLERS).filter((name) => name !== "next-app" || process.env.M2V_EDGE_SKIP_NEXT !== "1");
const VARIANTS = NAMES.flatMap((name) => [
  { name, as: name, ort: false },
  { name, as: `${name}-ort`, ort: true },
]);
/** The app whose exports need ONNX Runtime: `m2v-edge/ort`, onnxruntime-web's wasm emitted by vite. */
const ORT_APP = { name: "vite-ort-app", as: "vite-ort-app" }; // onnxruntime-web is in its package.json
BUNDLERS["vite-ort-app"] = { out: "dist", served: "dist" };
const apps = {};
let browser;

/**
 * Next.js's note that a CI run has no `.next/cache` (printed only when `CI` is set): about the CI machine's build
 * cache, not about the app or the package, so it is not counted.
 */
const NOT_APP_WARNINGS = [/No build cache found\. Please configure build caching/];

/** Warnings in a build's output: the count a build script prints ("webpack: 0 warnings"), else warning lines. */
function warningCount(log) {
  const counted = log.match(/^\w+: (\d+) warnings/m);
  if (counted) return Number(counted[1]);
  return log
    .split("\n")
    .filter((line) => /warn|\(!\)|⚠/i.test(line) && !NOT_APP_WARNINGS.some((note) => note.test(line))).length;
}

before(async () => {
  await pack();
  const started = Date.now();
  // Installed a few at a time (offline where web/'s npm ci filled the cache), then built one after the other.
  const all = [...VARIANTS, { name: "node-app", as: "node-app", ort: false }, ORT_APP];
  for (let i = 0; i < all.length; i += 4) {
    const batch = all.slice(i, i + 4);
    const dirs = await Promise.all(batch.map((v) => installExample(v.name, { as: v.as, add: v.ort ? ["onnxruntime-web"] : [] })));
    batch.forEach((v, j) => (apps[v.as] = { ...v, dir: dirs[j] }));
  }
  const installed = Date.now();
  for (const { as } of [...VARIANTS, ORT_APP]) {
    const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", NEXT_TELEMETRY_DISABLED: "1" };
    const { stdout, stderr } = await sh("npm", ["run", "--silent", "build"], { cwd: apps[as].dir, env });
    Object.assign(apps[as], { log: `${stdout}${stderr}`, stderr });
  }
  apps.times = { install: (installed - started) / 1000, build: (Date.now() - installed) / 1000 };
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

for (const { name, as, ort } of VARIANTS) {
  // (A build with errors exits non-zero: `sh` rejects in before().)
  test(`${as}: builds with zero warnings ${ort ? "with" : "without"} onnxruntime-web installed; no wasm, no ORT code`, (t) => {
    const { dir, log } = apps[as];
    assert.equal(warningCount(log), 0, `${as} build warned:\n${log}`);
    const files = sizes(join(dir, BUNDLERS[name].out));
    assert.deepEqual(files.filter((f) => f.file.endsWith(".wasm")).map((f) => f.file), [], "an int8 app ships no wasm");
    const js = files.filter((f) => /\.m?js$/.test(f.file));
    assert.ok(js.length > 0);
    for (const { file } of js) {
      const code = readFileSync(join(dir, BUNDLERS[name].out, file), "utf-8");
      // (onnxruntime-common's registerBackend is in every ONNX Runtime build; m2v-edge only names the packages.)
      assert.ok(!code.includes("registerBackend"), `${file} holds ONNX Runtime code`);
      assert.ok(!/\bfrom\s*["']node:|\bimport\(\s*["']node:/.test(code), `${file} imports a Node module`);
    }
    const total = js.reduce((s, f) => ({ raw: s.raw + f.raw, gzip: s.gzip + f.gzip }), { raw: 0, gzip: 0 });
    t.diagnostic(`${as}: ${js.length} JS files, ${human(total.raw)} (gzip ${human(total.gzip)}); 0 warnings`);
  });
}

/** Serve one app on its own origin (its own Cache API storage), counting requests for the model's graph. */
async function serve(as) {
  const { dir, name } = apps[as];
  const requests = [];
  const mounts = { "/app/": join(dir, BUNDLERS[name].served) };
  const server = await startServer({ modelDir: MODEL, mounts, onRequest: (path) => requests.push(path) });
  return { server, graphRequests: () => requests.filter((p) => p.startsWith("/model/") && p.endsWith(".onnx")).length };
}

async function result(url) {
  const page = await openPage(browser.context, url);
  await page.waitForFunction(() => window.exampleResult !== undefined, null, { timeout: 180_000 });
  const got = await page.evaluate(() => window.exampleResult);
  assert.deepEqual(page.problems, []);
  assert.match(await page.locator("#results li").first().innerText(), new RegExp(`^\\d\\.\\d{3} ${TUTORIAL}$`));
  await page.close();
  return got;
}

for (const { name, as } of VARIANTS) {
  test(`${as} in Chromium: the tutorial first on the pooling kernel, 300 texts through the tokenizer Worker`, async (t) => {
    const { server, graphRequests } = await serve(as);
    try {
      const first = await result(`${server.url}app/index.html${name === "vite-app" || name === "esbuild-app" ? "?mode=page" : ""}`);
      assert.equal(first.hits[0].document, TUTORIAL);
      assert.ok(first.hits[0].score > first.hits[1].score);
      assert.equal(first.info.backend, "m2v-edge-kernel");
      assert.equal(first.pooled, 300);
      assert.equal(first.info.fromCache, false);
      assert.equal(graphRequests(), 1);
      if (name !== "vite-app" && name !== "esbuild-app") return;
      // progress: bytes of the graph as they arrive, the size known from Content-Length.
      const size = statSync(join(MODEL, first.info.modelFile)).size;
      const loaded = first.progress.map((e) => e.loaded);
      assert.ok(first.progress.length > 1, `${first.progress.length} progress events`);
      assert.ok(loaded.every((x, i) => i === 0 || x > loaded[i - 1]), "loaded grows");
      assert.deepEqual(first.progress.at(-1), { file: first.info.modelFile, loaded: size, total: size });

      const second = await result(`${server.url}app/index.html?mode=page`);
      assert.equal(graphRequests(), 1, "the second page load read the graph from the Cache API");
      assert.equal(second.info.fromCache, true);
      assert.deepEqual(second.hits, first.hits);

      const worker = await result(`${server.url}app/index.html?mode=worker`);
      assert.equal(worker.mode, "worker");
      assert.equal(worker.hits[0].document, TUTORIAL);
      worker.hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - first.hits[i].score) < 1e-6));
      t.diagnostic(`${as}: load ${first.info.loadMs.toFixed(0)} ms (network) / ${second.info.loadMs.toFixed(0)} ms (Cache API); worker ok`);
    } finally {
      await server.close();
    }
  });
}

test("vite-ort-app: m2v-edge/ort bundles onnxruntime-web's plain wasm, which runs the graph in Chromium", async () => {
  const { dir, log } = apps["vite-ort-app"];
  assert.equal(warningCount(log), 0, log);
  const wasm = sizes(join(dir, "dist")).filter((f) => f.file.endsWith(".wasm"));
  assert.equal(wasm.length, 1, `one wasm file: ${wasm.map((f) => f.file)}`);
  const ortDist = join(dir, "node_modules", "onnxruntime-web", "dist");
  assert.equal(sha(join(dir, "dist", wasm[0].file)), sha(join(ortDist, "ort-wasm-simd-threaded.wasm")), "the plain (non-JSEP) wasm");
  const { server } = await serve("vite-ort-app");
  try {
    const got = await result(`${server.url}app/index.html`);
    assert.equal(got.info.backend, "onnxruntime-web");
    assert.equal(got.hits[0].document, TUTORIAL);
  } finally {
    await server.close();
  }
});

test("node-app: the tarball in Node ranks the tutorial first on the kernel, onnxruntime-web and onnxruntime-node", async (t) => {
  const out = {};
  for (const backend of ["kernel", "web", "node"]) {
    const { stdout } = await sh(process.execPath, ["main.mjs", MODEL, "--backend", backend], { cwd: apps["node-app"].dir });
    out[backend] = JSON.parse(stdout);
    assert.equal(out[backend].hits[0].document, TUTORIAL);
  }
  assert.equal(out.kernel.backend, "m2v-edge-kernel");
  assert.equal(out.web.backend, "onnxruntime-web");
  assert.equal(out.node.backend, "onnxruntime-node");
  [out.kernel, out.web].forEach((other) => other.hits.forEach((hit, i) => {
    assert.equal(hit.document, out.node.hits[i].document);
    assert.ok(Math.abs(hit.score - out.node.hits[i].score) < 1e-6);
  }));
  t.diagnostic(`examples: install ${apps.times.install.toFixed(0)} s, build ${apps.times.build.toFixed(0)} s (${VARIANTS.length} browser builds)`);
});
