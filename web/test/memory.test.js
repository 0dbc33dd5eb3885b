// Memory of a load (issue 25): the graph is read into the pooling kernel's memory, which pools from the table in it,
// so the table is in memory once, and a Qwen-sized model (151,669 x 1024 int8, a 156 MB model.onnx) loads and
// encodes under 512 MB of peak RSS in Node.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { test } from "node:test";

import { StaticOnnxModel } from "../src/index.js";
import { releaseBytes } from "../src/sources.js";
import { FIXTURES, WEB, fixture, trickyTexts } from "./helpers.js";

test("releaseBytes detaches a buffer it spans whole, and leaves a view on part of one alone", async () => {
  const whole = new Uint8Array(1 << 20).fill(7);
  await releaseBytes(whole);
  assert.equal(whole.buffer.byteLength, 0);
  const shared = new Uint8Array(64).fill(1);
  const part = shared.subarray(8, 16);
  await releaseBytes(part);
  assert.equal(shared.byteLength, 64);
  assert.deepEqual([...part], new Array(8).fill(1));
});

// A fresh process: load, encode, then its peak resident set (VmHWM) and RSS after load, from /proc/self/status.
const PROBE = `
import { readFileSync } from "node:fs";
import { StaticOnnxModel } from ${JSON.stringify(pathToFileURL(join(WEB, "src", "index.js")).href)};
const status = (key) => Number(readFileSync("/proc/self/status", "utf-8").match(new RegExp(key + ":\\\\s+(\\\\d+)"))[1]) * 1024;
const model = await StaticOnnxModel.load(process.argv[1]);
const loaded = status("VmRSS");
const texts = JSON.parse(readFileSync(process.argv[2], "utf-8"));
const { rows } = await model.encodeMatrix(texts, { batchSize: 1024 });
console.log(JSON.stringify({ backend: model.info.backend, inPlace: model.session.tableInPlace, modelBytes: model.info.modelBytes, loaded, peak: status("VmHWM"), rows }));
`;

test("the Qwen-sized export loads and encodes in a process that peaks under 512 MB (VmHWM)", { skip: process.platform !== "linux" && "needs /proc" }, (t) => {
  const folder = fixture("qwen-1024-int8");
  const stsb = join(FIXTURES, "stsb", "texts.json");
  // 2,100 STS-B sentences (scripts/make_web_fixtures.py writes them)
  const { docs, queries } = JSON.parse(readFileSync(stsb, "utf-8"));
  const texts = [...docs, ...queries];
  const dir = mkdtempSync(join(tmpdir(), "m2v-memory-"));
  const input = join(dir, "texts.json");
  writeFileSync(input, JSON.stringify(texts));
  let out;
  try {
    out = execFileSync("node", ["--input-type=module", "-e", PROBE, folder, input], { encoding: "utf-8" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const got = JSON.parse(out.trim().split("\n").at(-1));
  assert.equal(got.backend, "m2v-edge-kernel");
  assert.equal(got.inPlace, true, "the graph is read into the kernel's memory, which pools from the table in it");
  t.diagnostic(`model.onnx ${Math.round(got.modelBytes / 2 ** 20)} MB: peak ${Math.round(got.peak / 2 ** 20)} MB, after load ${Math.round(got.loaded / 2 ** 20)} MB`);
  assert.equal(got.rows, texts.length);
  const mb = (n) => Math.round(n / 2 ** 20);
  // Before: 617 MB peak, 465 MB after load (the file, a copy of the table and the kernel's table all alive).
  assert.ok(got.peak < 512 * 2 ** 20, `peak RSS ${mb(got.peak)} MB, over 512 MB`);
  // After load: the kernel's memory (the file), the tokenizer and Node itself, not a second table.
  assert.ok(got.loaded < 2 * got.modelBytes + 100 * 2 ** 20, `RSS after load ${mb(got.loaded)} MB: the graph's ${mb(got.modelBytes)} MB still held?`);
  // Nor during the load: the peak is the loaded process plus what encoding needs (a copy of the table made and
  // freed on the way was the peak before: 392 MB, 278 after load; measured now 291 and 275).
  assert.ok(got.peak < got.loaded + got.modelBytes / 2, `peak ${mb(got.peak)} MB vs ${mb(got.loaded)} after load: a second table on the way?`);
});

/** A fetch serving `folder` from disk in 64 kB chunks, announcing `length(size)` as Content-Length (null: none). */
function chunkedFetch(folder, length) {
  return async (url) => {
    const bytes = readFileSync(join(folder, new URL(url).pathname.split("/").at(-1)));
    let at = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(new Uint8Array(bytes.subarray(at, at + 65536)));
        at += 65536;
      },
    });
    const announced = length(bytes.length);
    return new Response(body, { headers: announced === null ? {} : { "content-length": String(announced) } });
  };
}

test("a graph fetched in chunks loads whole, whatever Content-Length announces (exact, smaller, none)", async () => {
  const folder = fixture("potion-int8");
  const expected = await (await StaticOnnxModel.load(folder)).encode(trickyTexts().slice(0, 8));
  const size = statSync(join(folder, "model.onnx")).size;
  for (const [what, length] of [["exact", (n) => n], ["smaller (a compressed transfer)", (n) => n >> 1], ["none", () => null]]) {
    for (const withProgress of [false, true]) {
      const events = [];
      const options = { fetch: chunkedFetch(folder, length), ...(withProgress ? { progress: (e) => events.push(e) } : {}) };
      const model = await StaticOnnxModel.load("http://m2v-edge.test/model/", options);
      assert.equal(model.info.modelBytes, size, what);
      assert.equal(model.session.tableInPlace, true, `${what}: fetched into the kernel's memory`);
      assert.deepEqual(await model.encode(trickyTexts().slice(0, 8)), expected, what);
      if (withProgress) assert.deepEqual(events.at(-1), { file: "model.onnx", loaded: size, total: size }, what);
    }
  }
});
