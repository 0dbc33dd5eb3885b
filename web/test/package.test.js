/**
 * The published package as a user gets it: `npm pack` contents (LICENSE, types, no tests or fixtures), README
 * links that work on npm, and a TypeScript app that `tsc --strict --noEmit` accepts with the tarball installed
 * (and rejects when the API is misused: the declarations are precise).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { fixture, FIXTURES, ROOT, WEB } from "./helpers.js";
import { human, installExample, pack, sh } from "./pack.js";

const manifest = JSON.parse(readFileSync(join(WEB, "package.json"), "utf-8"));

test("npm pack holds the entry points, types, LICENSE and README, and nothing else", async (t) => {
  const { files, size, unpackedSize } = await pack();
  t.diagnostic(`published tarball: ${human(size)} (${human(unpackedSize)} unpacked, ${files.length} files)`);
  for (const file of ["LICENSE", "README.md", "package.json", "bin/m2v-edge.mjs", "src/browser.js", "src/browser-kernel.js", "src/index.js", "src/core.js", "types/index.d.ts", "types/core.d.ts", "src/sqlite-vec.js", "types/sqlite-vec.d.ts"]) {
    assert.ok(files.includes(file), `${file} is in the tarball`);
  }
  const stray = files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/[\w-]+\.mjs|src\/[\w-]+\.js|types\/[\w-]+\.d\.ts)$/.test(f));
  assert.deepEqual(stray, [], "only the runtime, its types and the docs are published");
  // Every export condition points at a published file.
  const targets = [];
  const walk = (value) => (typeof value === "string" ? targets.push(value) : Object.values(value).forEach(walk));
  walk(manifest.exports);
  assert.ok(targets.length >= 8);
  for (const target of targets) assert.ok(files.includes(target.slice(2)), `exports target ${target} is published`);
  assert.ok(files.includes(manifest.types.slice(2)) && files.includes(manifest.main.slice(2)));
  assert.equal(readFileSync(join(WEB, "LICENSE"), "utf-8"), readFileSync(join(ROOT, "LICENSE"), "utf-8"), "web/LICENSE is the repo's");
  assert.ok(size < 100_000, `tarball ${size} bytes: no model or wasm in it`);
});

test("package.json: ORT is a peer dependency, repository and files are set", () => {
  assert.deepEqual(Object.keys(manifest.dependencies), ["@huggingface/tokenizers"]);
  assert.ok(manifest.peerDependencies["onnxruntime-web"] && manifest.peerDependencies["onnxruntime-node"]);
  assert.equal(manifest.peerDependenciesMeta["onnxruntime-node"].optional, true);
  // sqlite-vec's WebAssembly SQLite: an optional peer of `m2v-edge/sqlite-vec` only, pinned to the build that starts.
  assert.equal(manifest.peerDependenciesMeta["sqlite-vec-wasm-demo"].optional, true);
  assert.equal(manifest.peerDependencies["sqlite-vec-wasm-demo"], manifest.devDependencies["sqlite-vec-wasm-demo"]);
  assert.match(manifest.repository.url, /^git\+https:\/\/github\.com\/[\w-]+\/[\w-]+\.git$/);
  assert.equal(manifest.repository.directory, "web");
  const exp = manifest.exports["."];
  assert.deepEqual(Object.keys(exp), ["types", "react-native", "browser", "node", "default"]);
});

test("README links are absolute (they must work on npmjs.com) and point into the repository", () => {
  const readme = readFileSync(join(WEB, "README.md"), "utf-8");
  const links = [...readme.matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length >= 2, "the README links to the docs");
  const repo = manifest.repository.url.replace(/^git\+/, "").replace(/\.git$/, "");
  for (const link of links) {
    assert.ok(link.startsWith(`${repo}/`), `${link}: not an absolute link into ${repo}`);
    const path = link.slice(repo.length + 1).replace(/^(blob|tree)\/main\//, "").split("#")[0];
    assert.ok(readFileSync(join(ROOT, path)).length > 0, `${link}: ${path} exists in the repository`);
  }
});

test("TypeScript: the example app passes tsc --strict --noEmit; misuse is a type error", async (t) => {
  const app = await installExample("typescript-app");
  const tsc = join(app, "node_modules", "typescript", "bin", "tsc");
  await sh(process.execPath, [tsc, "--strict", "--noEmit", "-p", "."], { cwd: app });
  const wrong = await sh(process.execPath, [tsc, "--strict", "--noEmit", "-p", "tsconfig.wrong.json"], { cwd: app }).then(
    () => "",
    (err) => err.message,
  );
  const errors = wrong.match(/error TS\d+/g) ?? [];
  t.diagnostic(`wrong.ts: ${errors.length} type errors (${[...new Set(errors)].join(", ")})`);
  assert.equal(errors.length, 3, wrong);
  assert.match(wrong, /wrong\.ts\(5,\d+\): error TS2345/);
});

test("the tarball alone (no ONNX Runtime installed): int8 runs on the kernel; a float16 export says why and what to install", async () => {
  const { tarball } = await pack();
  const app = mkdtempSync(join(tmpdir(), "m2v-edge-bare-"));
  try {
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "bare", private: true, type: "module" }));
    await sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball], { cwd: app });
    const script = `import { StaticOnnxModel } from "m2v-edge";
      const [int8, fp16] = process.argv.slice(2);
      const m = await StaticOnnxModel.load(int8);
      const v = await m.encode(["hello world"]);
      const fail = await StaticOnnxModel.load(fp16).then(() => "loaded", (err) => err.message);
      console.log(JSON.stringify({ backend: m.info.backend, rows: v.length, dim: v[0].length, fail }));`;
    writeFileSync(join(app, "main.mjs"), script);
    const args = ["main.mjs", fixture("potion-int8"), join(FIXTURES, "wordpiece-fp16-hf")];
    const out = JSON.parse((await sh(process.execPath, args, { cwd: app })).stdout);
    assert.equal(out.backend, "m2v-edge-kernel");
    assert.deepEqual([out.rows, out.dim], [1, JSON.parse(readFileSync(join(fixture("potion-int8"), "config.json"), "utf-8")).dim]);
    assert.match(out.fail, /the pooling kernel cannot run it \(.*float16.*\), so ONNX Runtime must: onnxruntime-web is not installed/);
    assert.match(out.fail, /npm install onnxruntime-web/);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
});
