#!/usr/bin/env node
/**
 * Browser vs Python on the same STS-B test sentences in the same run:
 *   - headless Chromium (onnxruntime-web WASM): 1 thread on a page that is not cross-origin isolated, 2 threads
 *     on an isolated one (COOP/COEP), plus the time from page load to the first vector;
 *   - Python onnxruntime (`StaticOnnxModel`), 1 and 2 threads (tokenizer limited to as many cores).
 *
 *   node bench/bench.mjs [MODEL_DIR] [--repeats 5] [--python PATH]
 * MODEL_DIR defaults to web/.fixtures/potion-int8 (scripts/make_web_fixtures.py writes it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { WEB, startServer } from "../demo/server.mjs";
import { launchChromium } from "../test/chromium.js";
import { stsbSentences } from "./stsb.mjs";

const ROOT = resolve(WEB, "..");
const GOAL = 0.3;
const CHROMIUM_VERSION_CMD = [process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", "--version"];

function python(pythonPath, model, textsFile, threads, repeats) {
  const script = join(WEB, "bench", "python_bench.py");
  const env = { ...process.env, RAYON_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const done = spawnSync(pythonPath, [script, model, textsFile, "--threads", String(threads), "--repeats", String(repeats)], {
    env,
    encoding: "utf-8",
  });
  if (done.status !== 0) throw new Error(`python bench failed: ${done.stderr.trim().split("\n").pop()}`);
  return JSON.parse(done.stdout.trim().split("\n").pop());
}

async function browser(context, model, dataDir, isolated, threads, repeats) {
  const server = await startServer({ modelDir: model, isolated, mounts: { "/bench/": join(WEB, "bench"), "/bench-data/": dataDir } });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}bench/bench.html?threads=${threads}&repeats=${repeats}`);
    const result = await page.evaluate(() => window.benchResult);
    await page.close();
    return result;
  } finally {
    await server.close();
  }
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { repeats: { type: "string", default: "5" }, python: { type: "string", default: join(ROOT, ".venv", "bin", "python") } },
  });
  const model = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const repeats = Number(values.repeats);
  const texts = stsbSentences();
  const dataDir = mkdtempSync(join(tmpdir(), "m2v-edge-bench-"));
  const textsFile = join(dataDir, "texts.json");
  writeFileSync(textsFile, JSON.stringify(texts));
  console.log(`model ${model}; ${texts.length} STS-B test sentences; ${cpus().length} cores (${cpus()[0].model}); node ${process.version}`);

  const { context, close } = await launchChromium();
  const rows = [];
  try {
    for (const [isolated, threads] of [[false, 1], [true, 2]]) {
      const web = await browser(context, model, dataDir, isolated, threads, repeats);
      const py = python(values.python, model, textsFile, threads, repeats);
      rows.push({ threads, web, py });
    }
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const version = spawnSync(CHROMIUM_VERSION_CMD[0], CHROMIUM_VERSION_CMD.slice(1), { encoding: "utf-8" }).stdout.trim();
  console.log(`${version}\n`);
  console.log("| threads | Chromium WASM (sent/s) | Python ORT (sent/s) | browser / Python | page load → first vector |");
  console.log("|---|---|---|---|---|");
  for (const { threads, web, py } of rows) {
    const ratio = web.sentencesPerS / py.sentences_per_s;
    const iso = web.isolated ? "isolated" : "not isolated";
    console.log(
      `| ${threads} (${iso}) | ${web.sentencesPerS.toFixed(0)} | ${py.sentences_per_s.toFixed(0)} | ${ratio.toFixed(2)}x ` +
        `${ratio >= GOAL ? "(goal ≥ 0.3x met)" : "(below the 0.3x goal)"} | ${web.firstVectorMs.toFixed(0)} ms ` +
        `(model load ${web.loadMs.toFixed(0)} ms; Python load+first vector ${py.first_vector_ms.toFixed(0)} ms) |`,
    );
  }
  const share = rows.map((r) => `${(r.web.tokenizeShare * 100).toFixed(0)}%`).join(" / ");
  console.log(`\nshare of browser encode time spent in the JS tokenizer: ${share}`);
}

await main();
