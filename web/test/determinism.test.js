/**
 * One text, one vector, in JavaScript: a text's vector is bit-identical whatever its batch size, its neighbours,
 * their order and the tokenizer worker count, on the pooling kernel and on ONNX Runtime, in Node and in
 * headless Chromium. Texts the corpus has not repeated: STS-B train sentences and ~500-character passages.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { startServer } from "../demo/server.mjs";
import { trainSentences } from "../../src/m2v_edge/bench/web/stsb.mjs";
import { StaticOnnxModel } from "../src/index.js";
import { launchChromium, openPage } from "./chromium.js";
import { FIXTURES, WEB, fixture, trickyTexts } from "./helpers.js";

/** 400 STS-B train sentences (in the tree), 30 passages of ~500 characters, the tricky corpus. */
function corpus() {
  const sentences = trainSentences();
  const passages = [];
  for (let i = 1000; passages.length < 30; i += 9) passages.push(sentences.slice(i, i + 9).join(" ").slice(0, 500));
  return [...sentences.slice(0, 400), ...passages, ...trickyTexts()];
}

function bitDifferences(vectors, want) {
  return vectors.filter((v, i) => !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(want[i].buffer, want[i].byteOffset, want[i].byteLength))).length;
}

const TEXTS = corpus();
const CASES = [
  ["potion-int8", { engine: "kernel" }],
  ["qwen-1024-int8", { engine: "kernel" }],
  ["potion-int8", { engine: "onnxruntime" }],
];

for (const [name, options] of CASES) {
  test(`Node: ${name} ${JSON.stringify(options)} gives every text the same bits in any batch`, async () => {
    const model = await StaticOnnxModel.load(fixture(name), options);
    const one = [];
    for (const text of TEXTS) one.push((await model.encode(text)).slice());
    for (const batchSize of [1, 7, 128]) {
      assert.equal(bitDifferences(await model.encode(TEXTS, { batchSize }), one), 0, `batchSize ${batchSize}`);
    }
    const reversed = await model.encode([...TEXTS].reverse());
    assert.equal(bitDifferences(reversed.reverse(), one), 0, "reversed order");
    await model.dispose();
  });
}

let server;
let browser;

before(async () => {
  server = await startServer({ modelDir: fixture("potion-int8"), mounts: { "/test/": join(WEB, "test"), "/fixtures/": FIXTURES } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const PAGE_CASES = [
  ["potion-int8", {}],
  ["qwen-1024-int8", { tokenizerWorkers: 2 }],
  ["potion-int8", { tokenizerWorkers: 2 }],
  ["qwen-1024-int8", { engine: "onnxruntime", threads: 2 }],
];
for (const [name, options] of PAGE_CASES) {
  test(`Chromium: ${name} ${JSON.stringify(options)} gives every text the same bits in any batch`, async (t) => {
    const page = await openPage(browser.context, `${server.url}test/browser/harness.html`);
    const result = await page.evaluate(([model, o, texts]) => window.determinism(model, o, texts), [name, options, TEXTS]);
    await page.close();
    t.diagnostic(`${name}: ${result.n} texts, ${result.info.backend}, ${result.info.workers} workers: ${JSON.stringify(result.differing)}`);
    assert.ok(result.n >= 450, "STS-B sentences, passages and the tricky corpus");
    assert.equal(result.info.workers, options.tokenizerWorkers ?? 0);
    for (const [label, rows] of Object.entries(result.differing)) assert.equal(rows, 0, `${label}: ${rows} rows differ`);
  });
}
