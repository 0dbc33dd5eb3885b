/**
 * The real Qwen-family Model2Vec model (../shared), exported to int8 with `--isotropy auto`: Node and headless
 * Chromium give Python's golden vectors, so the folded isotropy map needs nothing from the JS runtime.
 * Skipped (with the reason) when the fixture was not built because ../shared is absent.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { StaticOnnxModel } from "../src/index.js";
import { launchChromium, openPage } from "./chromium.js";
import { FIXTURES, ROOT, WEB, golden, maxAbsDiff, trickyTexts } from "./helpers.js";

const NAME = "qwen-m2v-iso-int8";
const FOLDER = join(FIXTURES, NAME);
const skip = existsSync(join(FOLDER, "model.onnx"))
  ? false
  : `${FOLDER} not built: ../shared/models/qwen25-coder-0.5b-instruct-m2v-256d is absent`;

let server;
let browser;

before(async () => {
  if (skip) return;
  server = await startServer({
    modelDir: FOLDER,
    mounts: { "/test/": join(WEB, "test"), "/fixtures/": FIXTURES, "/data/": join(ROOT, "tests", "data") },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test("the Qwen-family fixture carries the isotropy map in its table", { skip }, () => {
  const config = JSON.parse(readFileSync(join(FOLDER, "config.json"), "utf-8"));
  assert.equal(config.isotropy.method, "abtt");
  assert.equal(config.isotropy.where, "table");
  assert.equal(config.vocab_size, 151934);
});

test(`Node vectors match Python for ${NAME}`, { skip }, async (t) => {
  const model = await StaticOnnxModel.load(FOLDER);
  const gold = golden(NAME);
  const texts = trickyTexts();
  const vectors = await model.encode(texts);
  let worst = 0;
  vectors.forEach((vector, i) => {
    worst = Math.max(worst, maxAbsDiff(vector, gold.vectors[i]));
  });
  assert.ok(worst <= 1e-5, `max abs diff ${worst}`);
  assert.ok(vectors[texts.indexOf("")].every((x) => x === 0), "an empty text stays the zero vector");
  await model.dispose();
  t.diagnostic(`${NAME}: ${texts.length} texts, max abs diff ${worst.toExponential(2)}`);
});

test(`Chromium vectors and ids match Python for ${NAME}`, { skip }, async (t) => {
  const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
  const result = await page.evaluate((model) => window.parity(model), NAME);
  await page.close();
  t.diagnostic(`${NAME}: ${result.n} texts, max abs diff ${result.maxDiff.toExponential(2)}`);
  assert.deepEqual(result.idMismatches, [], "texts whose ids differ from Python's");
  assert.ok(result.overBound <= 1, `max abs diff ${result.maxDiff}: ${result.overBound.toFixed(2)}x the float32 summation bound`);
  assert.deepEqual(page.problems, []);
});
