#!/usr/bin/env node
/**
 * Where the browser's time goes: the bench page (bench.html) under Chromium's sampling profiler (CDP
 * `Profiler.start/stop` through playwright-core), in two phases: navigation to the first vector, then the encodes
 * of fresh slices of unseen STS-B train sentences (warm-up slice + one slice per repeat, `--size` each; with
 * `pause` the page skips its warm re-encodes, so the profile is of unseen text only). Main thread only, self time grouped by where the code lives: the JS tokenizer (@huggingface/tokenizers), ORT's WASM, ORT's JS glue,
 * m2v-edge's own modules, garbage collection, idle (waiting, e.g. on ORT's worker threads) and the rest.
 *
 * `--functions N` also lists the N functions with the most self time in each phase (file:function:line).
 *
 *   node src/m2v_edge/bench/web/profile.mjs [MODEL_DIR] [--threads 1] [--isolated] [--tokenizer-workers 0] [--repeats 3] [--size 800] [--functions 0]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { WEB, startServer } from "../../../../web/demo/server.mjs";
import { launchChromium } from "../../../../web/test/chromium.js";
import { BENCH } from "./deps.mjs";
import { freshSlices, trainSentences } from "./stsb.mjs";

/** @param {{url: string, functionName: string}} frame */
function bucket({ url, functionName }) {
  if (functionName === "(garbage collector)") return "garbage collection";
  if (functionName === "(idle)" || functionName === "(program)") return functionName.slice(1, -1);
  if (url.includes("/vendor/tokenizers")) return "JS tokenizer (@huggingface/tokenizers)";
  if (url === "" && functionName === "encode") return "TextEncoder.encode (native, called by the tokenizer)";
  if (url.startsWith("wasm://") || url.includes(".wasm")) return "ORT WASM";
  if (url.includes("/ort/")) return "ORT JS glue";
  if (url.includes("/src/") || url.includes("/bench/")) return "m2v-edge JS (sort, padding, copies)";
  return `other (${functionName || "anonymous"})`;
}

/** @param {{url: string, functionName: string, lineNumber: number}} frame */
function functionName({ url, functionName, lineNumber }) {
  return `${url.split("/").pop() || "(native)"}:${functionName || "(anonymous)"}:${lineNumber + 1}`;
}

/** Self time (ms) per bucket (or per function, with `name = functionName`) from a CDP profile's samples. */
export function selfTimes(profile, name = bucket) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const totals = new Map();
  profile.samples.forEach((id, i) => {
    const key = name(byId.get(id).callFrame);
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000);
  });
  return [...totals.entries()].sort((a, b) => b[1] - a[1]);
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      threads: { type: "string", default: "1" },
      isolated: { type: "boolean", default: false },
      "tokenizer-workers": { type: "string", default: "0" },
      repeats: { type: "string", default: "3" },
      functions: { type: "string", default: "0" },
      size: { type: "string", default: "800" },
    },
  });
  const model = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const dataDir = mkdtempSync(join(tmpdir(), "m2v-edge-profile-"));
  const slices = freshSlices(trainSentences(), Number(values.repeats) + 1, Number(values.size));
  writeFileSync(join(dataDir, "texts.json"), JSON.stringify({ slices }));
  const server = await startServer({ modelDir: model, isolated: values.isolated, mounts: { "/bench/": BENCH, "/bench-data/": dataDir } });
  const { context, close } = await launchChromium();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Profiler.enable");
    await cdp.send("Profiler.setSamplingInterval", { interval: 200 });
    await cdp.send("Profiler.start");
    const query = `threads=${values.threads}&tokenizerWorkers=${values["tokenizer-workers"]}&pause=1`;
    await page.goto(`${server.url}bench/bench.html?${query}`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 120_000 });
    const load = (await cdp.send("Profiler.stop")).profile;
    await cdp.send("Profiler.start");
    await page.evaluate(() => window.benchGo());
    const result = await page.evaluate(() => window.benchResult);
    const encode = (await cdp.send("Profiler.stop")).profile;
    console.log(`model ${model}; ${query}; isolated ${result.isolated}; ${result.sentencesPerS.toFixed(0)} sent/s`);
    for (const [phase, profile] of [["navigation → first vector", load], ["encodes", encode]]) {
      const times = selfTimes(profile);
      const total = times.reduce((sum, [, ms]) => sum + ms, 0);
      console.log(`\n| main thread, ${phase} | self ms | share |\n|---|---|---|`);
      for (const [name, ms] of times.slice(0, 8)) console.log(`| ${name} | ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} % |`);
    }
    const top = Number(values.functions);
    for (const [phase, profile] of top > 0 ? [["navigation → first vector", load], ["encodes", encode]] : []) {
      const times = selfTimes(profile, functionName);
      const total = times.reduce((sum, [, ms]) => sum + ms, 0);
      console.log(`\n| function (${phase}) | self ms | share |\n|---|---|---|`);
      for (const [name, ms] of times.slice(0, top)) console.log(`| ${name} | ${ms.toFixed(1)} | ${((100 * ms) / total).toFixed(1)} % |`);
    }
  } finally {
    await close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
