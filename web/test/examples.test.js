/**
 * The example apps (web/examples/) with the packed tarball installed, as a user builds them: vite and esbuild
 * browser builds with zero warnings that ship only the plain (non-JSEP) wasm, run in headless Chromium on the
 * page and in a module Worker; loading progress and the Cache API (the second page load does not download the
 * model); and the Node script on both backends. Each ranks the seed card's example with the tutorial first.
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

const TUTORIAL = "Neural network training tutorial and guide";
const MODEL = fixture("potion-int8");
const apps = {};
let browser;

const sha = (path) => createHash("sha256").update(readFileSync(path)).digest("hex");

before(async () => {
  await pack();
  // Installed in parallel (offline, from the npm cache), then built one after the other.
  const names = ["vite-app", "esbuild-app", "node-app"];
  const folders = await Promise.all(names.map((name) => installExample(name)));
  names.forEach((name, i) => (apps[name] = { dir: folders[i] }));
  for (const name of ["vite-app", "esbuild-app"]) {
    const { stdout, stderr } = await sh("npm", ["run", "--silent", "build"], { cwd: apps[name].dir });
    apps[name].log = `${stdout}${stderr}`;
    apps[name].stderr = stderr;
  }
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

for (const [name, dist] of [["vite-app", "dist"], ["esbuild-app", "dist"]]) {
  test(`${name}: zero build warnings; ships the plain onnxruntime-web wasm and no Node module`, (t) => {
    const { dir, log, stderr } = apps[name];
    assert.equal(stderr.trim(), "", `${name} build wrote to stderr:\n${log}`);
    if (name === "esbuild-app") assert.match(log, /esbuild: 0 warnings, 0 errors/);
    else assert.doesNotMatch(log, /warn|\(!\)/i, log);
    const files = sizes(join(dir, dist));
    const wasm = files.filter((f) => f.file.endsWith(".wasm"));
    assert.equal(wasm.length, 1, `one wasm file: ${wasm.map((f) => f.file)}`);
    assert.doesNotMatch(wasm[0].file, /jsep|jspi|asyncify/);
    const ortDist = join(dir, "node_modules", "onnxruntime-web", "dist");
    const shipped = sha(join(dir, dist, wasm[0].file));
    assert.equal(shipped, sha(join(ortDist, "ort-wasm-simd-threaded.wasm")), "the wasm is onnxruntime-web's plain ort-wasm-simd-threaded.wasm");
    assert.notEqual(shipped, sha(join(ortDist, "ort-wasm-simd-threaded.jsep.wasm")));
    for (const js of files.filter((f) => f.file.endsWith(".js"))) {
      const code = readFileSync(join(dir, dist, js.file), "utf-8");
      // (onnxruntime-web itself keeps a guarded `require("node:os")` for Node; no import of a Node module.)
      assert.ok(!/\bfrom\s*["']node:|\bimport\(\s*["']node:/.test(code), `${js.file} imports a Node module`);
      assert.ok(!/jsep\.wasm|jsep\.mjs/.test(code), `${js.file} refers to the JSEP build`);
    }
    const total = files.reduce((s, f) => ({ raw: s.raw + f.raw, gzip: s.gzip + f.gzip }), { raw: 0, gzip: 0 });
    const version = JSON.parse(readFileSync(join(dir, "node_modules", "onnxruntime-web", "package.json"), "utf-8")).version;
    t.diagnostic(
      `${name} (onnxruntime-web ${version}): ${files.map((f) => `${f.file} ${human(f.raw)} (gzip ${human(f.gzip)})`).join("; ")}; ` +
        `total ${human(total.raw)} (gzip ${human(total.gzip)})`,
    );
  });
}

/** Serve one app on its own origin (its own Cache API storage), counting requests for the model's graph. */
async function serve(name) {
  const { dir } = apps[name];
  const root = name === "vite-app" ? join(dir, "dist") : dir;
  const requests = [];
  const server = await startServer({ modelDir: MODEL, mounts: { "/app/": root }, onRequest: (path) => requests.push(path) });
  return { server, graphRequests: () => requests.filter((p) => p === "/model/model.onnx").length };
}

async function result(url) {
  const page = await openPage(browser.context, url);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`${url}: no result in 180 s`)), 180_000).unref());
  const got = await Promise.race([page.evaluate(() => window.exampleResult), timeout]);
  assert.deepEqual(page.problems, []);
  assert.match(await page.locator("#results li").first().innerText(), new RegExp(`^\\d\\.\\d{3} ${TUTORIAL}$`));
  await page.close();
  return got;
}

for (const name of ["vite-app", "esbuild-app"]) {
  test(`${name} in Chromium: page and module Worker rank the tutorial first; progress; cached on the second load`, async (t) => {
    const { server, graphRequests } = await serve(name);
    const size = statSync(join(MODEL, "model.onnx")).size;
    try {
      const first = await result(`${server.url}app/index.html?mode=page`);
      assert.equal(first.hits[0].document, TUTORIAL);
      assert.ok(first.hits[0].score > first.hits[1].score);
      assert.equal(first.info.backend, "m2v-edge-kernel");
      assert.equal(first.info.fromCache, false);
      assert.equal(graphRequests(), 1);
      // progress: bytes of model.onnx as they arrive, the size known from Content-Length.
      const loaded = first.progress.map((e) => e.loaded);
      assert.ok(first.progress.length > 1, `${first.progress.length} progress events`);
      assert.ok(loaded.every((x, i) => i === 0 || x > loaded[i - 1]), "loaded grows");
      assert.deepEqual(first.progress.at(-1), { file: "model.onnx", loaded: size, total: size });
      assert.ok(first.progress.every((e) => e.total === size));

      const second = await result(`${server.url}app/index.html?mode=page`);
      assert.equal(graphRequests(), 1, "the second page load read model.onnx from the Cache API");
      assert.equal(second.info.fromCache, true);
      assert.deepEqual(second.hits, first.hits);
      assert.deepEqual(second.progress.at(-1), { file: "model.onnx", loaded: size, total: size });

      const worker = await result(`${server.url}app/index.html?mode=worker`);
      assert.equal(worker.mode, "worker");
      assert.equal(worker.hits[0].document, TUTORIAL);
      worker.hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - first.hits[i].score) < 1e-6));
      t.diagnostic(
        `${name}: page ${first.info.threads} threads, load ${first.info.loadMs.toFixed(0)} ms (network) / ` +
          `${second.info.loadMs.toFixed(0)} ms (Cache API); ${first.progress.length} progress events; worker ok`,
      );
    } finally {
      await server.close();
    }
  });
}

test("node-app: the tarball in Node ranks the tutorial first on the kernel, onnxruntime-web and onnxruntime-node", async () => {
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
});
