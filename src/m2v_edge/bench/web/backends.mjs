#!/usr/bin/env node
/**
 * Node backends side by side in one run: onnxruntime-web (WASM, the default) vs onnxruntime-node (native), same
 * model, same thread count, each repeat on a fresh slice of unseen STS-B train sentences; median sentences/s, ratio.
 *
 *   (cd web && npm run bench:backends -- [MODEL_DIR] ...), or from the clone:
 *   node src/m2v_edge/bench/web/backends.mjs [MODEL_DIR] [--repeats 5] [--threads 1]
 * MODEL_DIR defaults to web/.fixtures/potion-int8 (scripts/make_web_fixtures.py writes it).
 */
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { WEB } from "../../../../web/demo/server.mjs";
import { StaticOnnxModel } from "../../../../web/src/index.js";
import { importFromWeb } from "./deps.mjs";
import { freshSlices, trainSentences } from "./stsb.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Sentences/s, median over the repeats: slice 0 warms up, each later slice (unseen by this model) is one repeat. */
async function measure(model, slices) {
  await model.encodeMatrix(slices[0]);
  const rates = [];
  for (const texts of slices.slice(1)) {
    const started = performance.now();
    await model.encodeMatrix(texts, { batchSize: 1024 });
    rates.push(texts.length / ((performance.now() - started) / 1000));
  }
  return median(rates);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { repeats: { type: "string", default: "5" }, threads: { type: "string", default: "1" } },
  });
  const dir = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const [repeats, threads] = [Number(values.repeats), Number(values.threads)];
  const slices = freshSlices(trainSentences(), repeats + 1, 800);
  console.log(`model ${dir}; ${repeats} slices of 800 unseen STS-B train sentences (one per repeat); ${threads} thread(s); ${cpus().length} cores (${cpus()[0].model}); node ${process.version}`);
  const ortNode = await importFromWeb("onnxruntime-node");
  const rows = [];
  for (const [label, ort] of [["onnxruntime-web (WASM)", undefined], ["onnxruntime-node (native)", ortNode]]) {
    const model = await StaticOnnxModel.load(dir, { ort, threads });
    rows.push({ label, load: model.info.loadMs, rate: await measure(model, slices) });
    await model.dispose();
  }
  console.log("\n| backend | load (ms) | sentences/s |\n|---|---|---|");
  for (const row of rows) console.log(`| ${row.label} | ${row.load.toFixed(0)} | ${row.rate.toFixed(0)} |`);
  const ratio = rows[1].rate / rows[0].rate;
  console.log(`\nencode speed, native / WASM: ${ratio.toFixed(2)}x; load time, native / WASM: ${(rows[1].load / rows[0].load).toFixed(2)}x`);
}

await main();
