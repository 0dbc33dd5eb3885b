/**
 * `m2v-edge/sqlite-vec` in headless Chromium with sqlite-vec's official WebAssembly build (npm sqlite-vec-wasm-demo):
 * docs/web.md's snippet runs as written (one call puts the STS-B `.m2vec` written by Python's streaming encode into
 * a vec0 int8 table), then recall@10 of its search against float32 brute force over the same texts encoded here.
 * Fixtures: web/.fixtures/stsb/ (scripts/make_web_fixtures.py): 2,000 STS-B test sentences, 100 dev queries.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { StaticOnnxModel } from "../src/index.js";
import { openDatabase, quantizeRow } from "../src/sqlite-vec.js";
import { VectorFile } from "../src/vectors.js";
import { launchChromium, openPage } from "./chromium.js";
import { FIXTURES, ROOT, WEB, fixture } from "./helpers.js";

const GOAL = 0.97;
const SQLITE = join(WEB, "node_modules", "sqlite-vec-wasm-demo");
const STSB = join(FIXTURES, "stsb");

/** The one ```js block of docs/web.md's sqlite-vec section. */
function docsSnippet() {
  const page = readFileSync(join(ROOT, "docs", "web.md"), "utf8");
  const section = page.split(/^## /m).find((s) => s.startsWith("sqlite-vec"));
  const blocks = [...(section ?? "").matchAll(/^```js\n(.*?)^```$/gms)];
  assert.equal(blocks.length, 1, "docs/web.md: one ```js block in the sqlite-vec section");
  return blocks[0][1];
}

let data;
let server;
let browser;

before(async () => {
  fixture("potion-int8");
  for (const name of ["texts.json", "docs.m2vec", "docs.db"]) {
    if (!existsSync(join(STSB, name))) {
      throw new Error(`${join(STSB, name)}: fixture missing; run scripts/make_web_fixtures.py (needs m2v-edge[sqlite] for docs.db)`);
    }
  }
  const texts = JSON.parse(readFileSync(join(STSB, "texts.json"), "utf8"));
  const model = await StaticOnnxModel.load(fixture(texts.model));
  const docs = (await model.encode(texts.docs)).map((v) => v.slice());
  const queries = (await model.encode(texts.queries)).map((v) => Array.from(v));
  await model.dispose();
  data = { texts, docs, queries, truth: queries.map((q) => bruteForce(q, docs, 10)) };
  server = await startServer({
    mounts: { "/test/": join(WEB, "test"), "/sqlite/": SQLITE, "/models/": FIXTURES, "/data/": join(WEB, "test", "data"), "/": STSB },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Top-k rows by float32 cosine, ties by lower row. */
function bruteForce(query, rows, k) {
  const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  const qn = norm(query);
  const scores = rows.map((row, index) => ({ index, score: row.reduce((s, x, j) => s + x * query[j], 0) / (norm(row) * qn) }));
  return scores.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k).map((h) => h.index);
}

test("Chromium: docs/web.md's snippet indexes the .m2vec in one call; recall@10 vs float32 brute force", async (t) => {
  const page = await openPage(browser.context, `${server.url}test/browser/sqlite-vec.html`);
  const result = await page.evaluate(
    async ({ snippet, queries }) => {
      const source = `${snippet}\nexport { store, hits };`;
      const started = performance.now();
      const { store, hits } = await import(URL.createObjectURL(new Blob([source], { type: "text/javascript" })));
      const snippetMs = performance.now() - started;
      const searched = performance.now();
      const found = store.search(queries, 10);
      const searchMs = performance.now() - searched;
      const version = store.db.selectValue("SELECT sqlite_version() || ' / sqlite-vec ' || vec_version()");
      const count = store.db.selectValue(`SELECT count(*) FROM ${store.table}`);
      return { hits, found: found.map((list) => list.map((h) => h.index)), snippetMs, searchMs, version, count, dim: store.dim };
    },
    { snippet: docsSnippet(), queries: data.queries },
  );
  const recall = result.found.reduce((s, list, n) => s + list.filter((i) => data.truth[n].includes(i)).length / 10, 0) / result.found.length;
  t.diagnostic(
    `${result.version}: ${result.count} STS-B rows of ${result.dim} dims, ${data.queries.length} queries: recall@10 vs float32 ` +
      `brute force ${recall.toFixed(3)}; snippet (load model + sqlite + index + 1 search) ${result.snippetMs.toFixed(0)} ms, ` +
      `${data.queries.length} searches ${result.searchMs.toFixed(0)} ms`,
  );
  assert.equal(result.count, data.texts.docs.length);
  assert.ok(recall >= GOAL, `recall@10 ${recall}`);
  // The snippet's query is document 1 itself: its own row first, cosine ~1 (int8 query against int8 row).
  assert.equal(result.hits[0].index, 1);
  assert.equal(result.hits[0].id, null);
  assert.ok(Math.abs(result.hits[0].score - 1) < 1e-3, `score ${result.hits[0].score}`);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("Chromium: ids, reopening, float16 files, and bad input named with its remedy", async () => {
  const page = await openPage(browser.context, `${server.url}test/browser/sqlite-vec.html`);
  const result = await page.evaluate(async () => {
    const { indexCorpus, SqliteVecStore } = await import("m2v-edge/sqlite-vec");
    const { default: init } = await import("sqlite-vec-wasm-demo");
    const sqlite3 = await init();
    const bytes = async (url) => (await fetch(url)).arrayBuffer();
    const [docs, int8, float16] = await Promise.all([bytes("/docs.m2vec"), bytes("/data/golden-int8.m2vec"), bytes("/data/golden-float16.m2vec")]);
    const db = new sqlite3.oo1.DB(":memory:");
    const ids = Array.from({ length: 2000 }, (_, i) => `doc-${i}`);
    const store = await indexCorpus(db, docs, { table: "with_ids", ids });
    const vector = (await import("/src/vectors.js")).VectorFile;
    const file = await vector.fromBuffer(docs);
    const seven = file.vector(7);
    const error = async (call) => {
      try {
        await call();
        return null;
      } catch (e) {
        return e.message;
      }
    };
    const halves = await indexCorpus(db, float16, { table: "halves" });
    // An empty text's zero row (here row 0, scale 0) is not stored: sqlite-vec's NULL distance would rank it first.
    const withZero = new Uint8Array(docs.slice(0));
    withZero.fill(0, 64, 64 + file.dim);
    const zeroed = await indexCorpus(db, withZero, { table: "zeroed" });
    const zeroHits = zeroed.search([seven], 2000)[0];
    const golden = await vector.fromBuffer(int8);
    return {
      hit: store.search([seven], 3)[0][0],
      reopened: new SqliteVecStore(db, "with_ids").search([seven], 3)[0][0],
      float16Top: halves.search([golden.vector(3)], 1)[0][0].index,
      zeroRow: { first: zeroHits[0].index, count: zeroHits.length, hasZero: zeroHits.some((h) => h.index === 0) },
      zeroQuery: zeroed.search([new Float32Array(file.dim)], 3)[0].map((h) => h.score),
      exists: await error(() => indexCorpus(db, docs, { table: "with_ids" })),
      dims: await error(() => store.search([[1, 2]], 3)),
      single: await error(() => store.search(seven, 3)),
      topK: await error(() => store.search([seven], 0)),
      nan: await error(() => store.search([seven.map((x, j) => (j === 5 ? NaN : x))], 3)),
      idCount: await error(() => indexCorpus(sqlite3, docs, { ids: ["a"] })),
      otherModel: await error(() => indexCorpus(sqlite3, docs, { config: "{}" })),
      notSqlite: await error(() => indexCorpus({}, docs)),
      badTable: await error(() => indexCorpus(sqlite3, docs, { table: "x; DROP TABLE y" })),
      noTable: await error(() => new SqliteVecStore(db, "nothing")),
      notM2vec: await error(() => indexCorpus(sqlite3, new Uint8Array(100))),
    };
  });
  assert.deepEqual(result.hit, { index: 7, id: "doc-7", score: result.hit.score });
  assert.ok(Math.abs(result.hit.score - 1) < 1e-3);
  assert.deepEqual(result.reopened, result.hit);
  assert.equal(result.float16Top, 3);
  assert.deepEqual(result.zeroRow, { first: 7, count: 1999, hasZero: false });
  assert.deepEqual(result.zeroQuery, [0, 0, 0]);
  assert.match(result.exists, /table "with_ids" exists in this database; pick another table name or database/);
  assert.match(result.dims, /query 0 has 2 dims, the store 256; use the same model/);
  assert.match(result.single, /array of query vectors/);
  assert.match(result.topK, /topK must be a positive integer, got 0/);
  assert.match(result.nan, /query 0/);
  assert.match(result.idCount, /1 ids for 2000 vectors; give one id per row/);
  assert.match(result.otherModel, /made by another model.*encode the corpus again/);
  assert.match(result.notSqlite, /sqlite3 WebAssembly module or an oo1\.DB.*npm install sqlite-vec-wasm-demo/);
  assert.match(result.badTable, /use letters, digits and underscores/);
  assert.match(result.noTable, /no sqlite-vec table "nothing".*indexCorpus/);
  assert.match(result.notM2vec, /not an m2v-edge vector file/);
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("Chromium: the database Python's sqlite_store wrote (docs.db) opens here and answers as the table built here", async () => {
  const page = await openPage(browser.context, `${server.url}test/browser/sqlite-vec.html`);
  const result = await page.evaluate(async (queries) => {
    const { indexCorpus, openDatabase, SqliteVecStore } = await import("m2v-edge/sqlite-vec");
    const { default: init } = await import("sqlite-vec-wasm-demo");
    const sqlite3 = await init();
    const bytes = async (url) => (await fetch(url)).arrayBuffer();
    const python = new SqliteVecStore(openDatabase(sqlite3, await bytes("/docs.db")));
    const here = await indexCorpus(sqlite3, await bytes("/docs.m2vec"));
    const [a, b] = [python, here].map((store) => store.search(queries, 10));
    return { dim: python.dim, python: a, here: b, version: python.db.selectValue("SELECT vec_version()") };
  }, data.queries);
  assert.equal(result.dim, 256);
  result.python.forEach((hits, n) => {
    assert.deepEqual(hits.map((h) => h.index), result.here[n].map((h) => h.index), `query ${n}`);
    hits.forEach((h, r) => assert.ok(Math.abs(h.score - result.here[n][r].score) < 1e-6 && h.id === `doc-${h.index}`));
  });
  assert.deepEqual(page.problems, []);
  await page.close();
});

test("Node: queries are quantized as Python quantized the rows; the WebAssembly build is browser-only", async () => {
  // The .m2vec rows are Python's quantize_rows of Python's vectors; ours of the same texts' vectors (equal to 1e-5).
  const file = await VectorFile.fromBuffer(readFileSync(join(STSB, "docs.m2vec")));
  let differ = 0;
  let worst = 0;
  data.docs.forEach((v, i) => {
    const row = quantizeRow(v);
    for (let j = 0; j < file.dim; j++) {
      const d = Math.abs(row[j] - file.rows[i * file.dim + j]);
      differ += d > 0;
      worst = Math.max(worst, d);
    }
  });
  assert.ok(worst <= 1 && differ <= file.count * file.dim * 1e-3, `${differ} cells differ, by up to ${worst}`);
  assert.deepEqual(Array.from(quantizeRow([0.5, -1, 0.25, 0])), [64, -127, 32, 0]); // 63.5 rounds to even, as np.rint
  assert.deepEqual(Array.from(quantizeRow([0, 0])), [0, 0]);
  assert.throws(() => openDatabase(undefined), /npm install sqlite-vec-wasm-demo/);
  const { default: init } = await import("sqlite-vec-wasm-demo");
  // The build has no Node code path: its init throws the string "environment detection error".
  await assert.rejects(async () => init({ printErr: () => {} }), (e) => /environment/.test(String(e)));
});

test("no other entry reaches m2v-edge/sqlite-vec, and it imports no SQLite (the caller passes it)", () => {
  const manifest = JSON.parse(readFileSync(join(WEB, "package.json"), "utf8"));
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(join(WEB, "src", file), "utf8");
    for (const [, spec] of code.matchAll(/(?:import|export)\s[^"']*?from\s+["']\.\/([\w-]+\.js)["']/g)) walk(spec);
  };
  const entries = new Set();
  const collect = (value) => (typeof value === "string" ? entries.add(value) : Object.values(value).forEach(collect));
  Object.entries(manifest.exports).forEach(([name, value]) => name !== "./sqlite-vec" && collect(value));
  for (const target of entries) if (target.startsWith("./src/")) walk(target.slice("./src/".length));
  assert.ok(seen.has("index.js") && seen.has("browser-kernel.js") && seen.has("vectors.js"), [...seen].join(", "));
  assert.ok(!seen.has("sqlite-vec.js"), "an entry other than m2v-edge/sqlite-vec imports src/sqlite-vec.js");
  const own = readFileSync(join(WEB, "src", "sqlite-vec.js"), "utf8");
  assert.deepEqual([...own.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]), ["./contract.js", "./validate.js", "./vectors.js"]);
});
