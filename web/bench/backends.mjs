#!/usr/bin/env node
/**
 * Node backends side by side in one run: onnxruntime-web (WASM, the default) vs onnxruntime-node (native), same
 * model, same STS-B test sentences, same thread count; median of the repeats, sentences/s and the ratio.
 *
 *   node bench/backends.mjs [MODEL_DIR] [--repeats 5] [--threads 1]
 * MODEL_DIR defaults to web/.fixtures/potion-int8 (scripts/make_web_fixtures.py writes it).
 */
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import * as ortNode from "onnxruntime-node";

import { WEB } from "../demo/server.mjs";
import { StaticOnnxModel } from "../src/index.js";
import { stsbSentences } from "./stsb.mjs";

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(model, texts, repeats) {
  await model.encodeMatrix(texts.slice(0, 256)); // warm-up
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await model.encodeMatrix(texts, { batchSize: 1024 });
    times.push(performance.now() - started);
  }
  return texts.length / (median(times) / 1000);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { repeats: { type: "string", default: "5" }, threads: { type: "string", default: "1" } },
  });
  const dir = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const [repeats, threads] = [Number(values.repeats), Number(values.threads)];
  const texts = stsbSentences();
  console.log(`model ${dir}; ${texts.length} STS-B test sentences; ${threads} thread(s); ${cpus().length} cores (${cpus()[0].model}); node ${process.version}`);
  const rows = [];
  for (const [label, ort] of [["onnxruntime-web (WASM)", undefined], ["onnxruntime-node (native)", ortNode]]) {
    const model = await StaticOnnxModel.load(dir, { ort, threads });
    rows.push({ label, load: model.info.loadMs, rate: await measure(model, texts, repeats) });
    await model.dispose();
  }
  console.log("\n| backend | load (ms) | sentences/s |\n|---|---|---|");
  for (const row of rows) console.log(`| ${row.label} | ${row.load.toFixed(0)} | ${row.rate.toFixed(0)} |`);
  const ratio = rows[1].rate / rows[0].rate;
  console.log(`\nencode speed, native / WASM: ${ratio.toFixed(2)}x; load time, native / WASM: ${(rows[1].load / rows[0].load).toFixed(2)}x`);
}

await main();
