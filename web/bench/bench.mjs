#!/usr/bin/env node
/**
 * Browser vs Python on the same STS-B test sentences in the same run:
 *   - headless Chromium, the package's default engine (the pooling kernel, WebAssembly SIMD) with the tokenizer on
 *     the page and on 2 Web Workers (`tokenizerWorkers: 2`), on pages that are and are not cross-origin isolated;
 *     and onnxruntime-web (`engine: "onnxruntime"`) on an isolated page with 1 and 2 WASM threads, with and without
 *     workers; plus the time from page load to the first vector and where the encode time goes (JS tokenizer alone,
 *     `session.run`, the rest);
 *   - Python onnxruntime (`StaticOnnxModel`), 1 and 2 threads (tokenizer limited to as many cores); a page using
 *     one core is compared with Python on 1 thread, any other with Python on 2.
 *
 * Shared machines drift by tens of percent within a minute, so each ratio pairs a page with a Python run made just
 * before it, and the whole set is repeated `--rounds` times: the table gives the median ratio and its range.
 *
 *   node bench/bench.mjs [MODEL_DIR] [--repeats 5] [--rounds 3] [--python PATH]
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
const GOAL = 0.8; // issue 13: Chromium ≥ 0.8× Python
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

/** [isolated, engine, WASM threads, tokenizer workers]: the page set-ups measured. */
const SETUPS = [
  [false, "auto", 1, 0],
  [false, "auto", 1, 2],
  [true, "auto", 1, 0],
  [true, "auto", 1, 2],
  [true, "onnxruntime", 1, 0],
  [true, "onnxruntime", 2, 0],
  [true, "onnxruntime", 1, 2],
];

async function browser(context, model, dataDir, [isolated, engine, threads, workers], repeats) {
  const server = await startServer({ modelDir: model, isolated, mounts: { "/bench/": join(WEB, "bench"), "/bench-data/": dataDir } });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}bench/bench.html?engine=${engine}&threads=${threads}&repeats=${repeats}&tokenizerWorkers=${workers}`);
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
    options: {
      repeats: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      python: { type: "string", default: join(ROOT, ".venv", "bin", "python") },
    },
  });
  const model = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const repeats = Number(values.repeats);
  const texts = stsbSentences();
  const dataDir = mkdtempSync(join(tmpdir(), "m2v-edge-bench-"));
  const textsFile = join(dataDir, "texts.json");
  writeFileSync(textsFile, JSON.stringify(texts));
  console.log(`model ${model}; ${texts.length} STS-B test sentences; ${cpus().length} cores (${cpus()[0].model}); node ${process.version}`);

  const { context, close } = await launchChromium();
  const rounds = Number(values.rounds);
  /** @type {{setup: number[], cores: number, runs: {web: any, py: any}[]}[]} */
  const rows = SETUPS.map((setup) => ({ setup, cores: setup[2] === 1 && setup[3] === 0 ? 1 : 2, runs: [] }));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const row of rows) {
        const py = python(values.python, model, textsFile, row.cores, repeats);
        row.runs.push({ py, web: await browser(context, model, dataDir, row.setup, repeats) });
      }
    }
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const version = spawnSync(CHROMIUM_VERSION_CMD[0], CHROMIUM_VERSION_CMD.slice(1), { encoding: "utf-8" }).stdout.trim();
  console.log(`${version}\n`);
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  console.log(
    `| page | Chromium (sent/s) | Python ORT (sent/s) | browser / Python, median of ${rounds} (range) | ` +
      "encode: JS tokenizer alone / session.run / all (ms) | page load → first vector |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const { setup, cores, runs } of rows) {
    const ratios = runs.map(({ web, py }) => web.sentencesPerS / py.sentences_per_s);
    const ratio = median(ratios);
    const web = (key) => median(runs.map((run) => run.web[key]));
    const engine = setup[1] === "auto" ? runs[0].web.backend : `onnxruntime-web, ${setup[2]} WASM thread(s)`;
    const page = `${setup[0] ? "isolated" : "not isolated"}, ${engine}, ${setup[3]} tokenizer workers`;
    console.log(
      `| ${page} | ${web("sentencesPerS").toFixed(0)} | ${median(runs.map(({ py }) => py.sentences_per_s)).toFixed(0)} (${cores} thr) | ` +
        `${ratio.toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) ` +
        `${ratio >= GOAL ? `(goal ≥ ${GOAL}x met)` : `(below the ${GOAL}x goal)`} | ` +
        `${web("tokenizeMs").toFixed(0)} / ${web("graphMs").toFixed(0)} / ${web("encodeMs").toFixed(0)} | ${web("firstVectorMs").toFixed(0)} ms ` +
        `(model load ${web("loadMs").toFixed(0)} ms; Python load+first vector ${median(runs.map(({ py }) => py.first_vector_ms)).toFixed(0)} ms) |`,
    );
  }
  console.log(
    "\nJS tokenizer alone: all texts tokenized on the page, timed apart; session.run: summed over the graph calls " +
      "of one encode (with workers it overlaps the tokenizing).",
  );
}

await main();
