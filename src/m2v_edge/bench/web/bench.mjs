#!/usr/bin/env node
/**
 * Peers in one run, on unseen text: headless Chromium with transformers.js 4.x (`AutoModel` on our Hugging
 * Face-layout export, its own onnxruntime-web) and m2v-edge (the pooling kernel, the tokenizer on the page and on 2
 * Web Workers), beside Python `StaticOnnxModel` at 2 threads (tokenizers; and `[fast]` with `--fast`), all on the same
 * fresh slices of the unique STS-B train sentences: every page and process warms up on slice 0 and times one
 * repeat per later slice, each a text it has not seen (word caches start cold). Warm-cache rates (slice 0 again)
 * are printed as their own labelled column. `--all-setups` adds the older page set-ups (not isolated, onnxruntime-web
 * engine with 1-2 WASM threads).
 *
 * Shared machines drift by tens of percent within a minute, so the set-ups run in a shuffled order every round and
 * each ratio is taken within a round: the table gives the median over rounds and its range.
 *
 *   (cd web && npm run bench -- [MODEL_DIR] ...), or from the clone:
 *   node src/m2v_edge/bench/web/bench.mjs [MODEL_DIR] [--repeats 5] [--rounds 3] [--size 800] [--python PATH] [--fast] [--all-setups]
 * MODEL_DIR: a Hugging Face-layout export (default web/.fixtures/potion-hf; scripts/make_web_fixtures.py writes it).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { WEB, startServer } from "../../../../web/demo/server.mjs";
import { launchChromium } from "../../../../web/test/chromium.js";
import { BENCH, importFromWeb } from "./deps.mjs";
import { freshSlices, trainSentences } from "./stsb.mjs";

const ROOT = resolve(WEB, "..");
const CHROMIUM_VERSION_CMD = [process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", "--version"];
const TJS = join(WEB, "node_modules", "@huggingface", "transformers");
const MOUNTS = { "/tjs/": join(TJS, "dist"), "/tjs-ort/": join(TJS, "node_modules", "onnxruntime-web", "dist") };
// Issue 25's goals: Chromium ≥ 1.0× Python (2 threads) and ≥ 2.5× transformers.js.
const GOAL_VS_PYTHON = 1.0;
const GOAL_VS_TJS = 2.5;

/**
 * Page set-ups: [label, page, isolated, engine, WASM threads, tokenizer workers]. Our pages run the package as an
 * app ships it, bundled (`bundlePage`: esbuild, one file as transformers.js's own dist); `bench/bench.html` (the
 * package's source modules, one request each) is the unbundled row of `--all-setups`.
 */
const PEERS = [
  ["transformers.js 4.x AutoModel on our export", "bench/tjs.html", true, "", 1, 0],
  ["m2v-edge, kernel", "bundle/bench.html", true, "auto", 1, 0],
  ["m2v-edge, kernel + 2 tokenizer workers", "bundle/bench.html", true, "auto", 1, 2],
];
const MORE = [
  ["m2v-edge, kernel, source modules (unbundled)", "bench/bench.html", true, "auto", 1, 0],
  ["m2v-edge, kernel, not isolated", "bundle/bench.html", false, "auto", 1, 0],
  ["m2v-edge, onnxruntime-web 1 thread", "bundle/bench.html", true, "onnxruntime", 1, 0],
  ["m2v-edge, onnxruntime-web 2 threads", "bundle/bench.html", true, "onnxruntime", 2, 0],
];

/**
 * The bench page as an app ships it: bench-page.js and the tokenizer worker bundled and minified by esbuild (the
 * package's modules and @huggingface/tokenizers in one file each; onnxruntime-web stays the import map's), into
 * `out`, served at /bundle/ beside a copy of bench.html that loads the bundle.
 *
 * @param {string} out an empty folder.
 */
async function bundlePage(out) {
  const esbuild = await importFromWeb("esbuild");
  const source = { name: "package-source", setup: (build) => build.onResolve({ filter: /^\/src\// }, ({ path }) => ({ path: join(WEB, path) })) };
  await esbuild.build({
    entryPoints: { "bench-page": join(BENCH, "bench-page.js"), "tokenize-worker": join(WEB, "src", "tokenize-worker.js") },
    outdir: out,
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    external: ["onnxruntime-web", "onnxruntime-web/*"],
    nodePaths: [join(WEB, "node_modules")],
    plugins: [source],
    logLevel: "error",
  });
  const html = readFileSync(join(BENCH, "bench.html"), "utf-8").replace('src="/bench/bench-page.js"', 'src="/bundle/bench-page.js"');
  if (!html.includes("/bundle/bench-page.js")) throw new Error("bench.html: no /bench/bench-page.js script to point at the bundle");
  writeFileSync(join(out, "bench.html"), html);
}

function python(pythonPath, model, slicesFile, threads, fast) {
  // m2v_edge.bench.web_pair of this clone (its src/ first on the path), whatever the venv has installed
  const sysPath = [join(ROOT, "src"), process.env.PYTHONPATH].filter(Boolean).join(delimiter);
  const env = { ...process.env, PYTHONPATH: sysPath, RAYON_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
  const args = ["-m", "m2v_edge.bench.web_pair", model, slicesFile, "--threads", String(threads), ...(fast ? ["--fast"] : [])];
  const done = spawnSync(pythonPath, args, { env, encoding: "utf-8" });
  if (done.status !== 0) throw new Error(`python bench failed: ${done.stderr.trim().split("\n").pop()}`);
  const out = JSON.parse(done.stdout.trim().split("\n").pop());
  if (out.skipped) return { skipped: out.skipped };
  return { sentencesPerS: out.sentences_per_s, warmSentencesPerS: out.warm_sentences_per_s, firstVectorMs: out.first_vector_ms };
}

async function browser(context, model, dataDir, [, page, isolated, engine, threads, workers]) {
  const mounts = { ...MOUNTS, "/bench/": BENCH, "/bench-data/": dataDir, "/bundle/": join(dataDir, "bundle") };
  const server = await startServer({ modelDir: model, isolated, mounts });
  try {
    const tab = await context.newPage();
    await tab.goto(`${server.url}${page}?engine=${engine}&threads=${threads}&tokenizerWorkers=${workers}`);
    const result = await tab.evaluate(() => window.benchResult);
    await tab.close();
    return result;
  } finally {
    await server.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ratioCell = (xs, goal) => {
  const m = median(xs);
  const verdict = goal === undefined ? "" : m >= goal ? ` (goal ≥ ${goal}× met)` : ` (**below ${goal}×**)`;
  return `${m.toFixed(2)}× (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})${verdict}`;
};

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      repeats: { type: "string", default: "5" },
      rounds: { type: "string", default: "3" },
      size: { type: "string", default: "800" },
      python: { type: "string", default: join(ROOT, ".venv", "bin", "python") },
      fast: { type: "boolean", default: false },
      "all-setups": { type: "boolean", default: false },
    },
  });
  const model = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-hf"));
  const slices = freshSlices(trainSentences(), Number(values.repeats) + 1, Number(values.size));
  const dataDir = mkdtempSync(join(tmpdir(), "m2v-edge-bench-"));
  const slicesFile = join(dataDir, "texts.json");
  writeFileSync(slicesFile, JSON.stringify({ slices }));
  await bundlePage(join(dataDir, "bundle"));
  const load = cpus().length ? `${cpus().length} cores (${cpus()[0].model})` : "";
  console.log(`model ${model}; ${slices.length - 1} timed slices of ${slices[1].length} unseen STS-B train sentences; ${load}; node ${process.version}`);

  const setups = [...PEERS, ...(values["all-setups"] ? MORE : [])].map((s) => ({ label: s[0], setup: s, runs: [] }));
  const pythons = [{ label: "Python 2 threads (tokenizers)", fast: false, runs: [] }];
  if (values.fast) pythons.push({ label: "Python 2 threads ([fast])", fast: true, runs: [] });
  const { context, close } = await launchChromium();
  try {
    for (let round = 0; round < Number(values.rounds); round++) {
      const order = [...setups, ...pythons].sort(() => Math.random() - 0.5);
      for (const row of order) {
        row.runs.push(row.setup ? await browser(context, model, dataDir, row.setup) : python(values.python, model, slicesFile, 2, row.fast));
      }
    }
  } finally {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const version = spawnSync(CHROMIUM_VERSION_CMD[0], CHROMIUM_VERSION_CMD.slice(1), { encoding: "utf-8" }).stdout.trim();
  console.log(`${version}\n`);
  const [py, tjs] = [pythons[0], setups[0]];
  console.log(
    "| set-up | unseen sent/s | ÷ Python 2 thr, per round (range) | ÷ transformers.js, per round (range) | **warm-cache** sent/s | load → first vector |",
  );
  console.log("|---|--:|---|---|--:|--:|");
  for (const row of [...setups, ...pythons]) {
    if (row.runs[0].skipped) {
      console.log(`| ${row.label} | not run: ${row.runs[0].skipped} | | | | |`);
      continue;
    }
    const rate = (i) => row.runs[i].sentencesPerS;
    const vsPy = row.runs.map((_, i) => rate(i) / py.runs[i].sentencesPerS);
    const vsTjs = row.runs.map((_, i) => rate(i) / tjs.runs[i].sentencesPerS);
    const ours = row.setup && row !== tjs;
    console.log(
      `| ${row.label} | ${median(row.runs.map((r) => r.sentencesPerS)).toFixed(0)} | ${ratioCell(vsPy, ours ? GOAL_VS_PYTHON : undefined)} | ` +
        `${ratioCell(vsTjs, ours ? GOAL_VS_TJS : undefined)} | ${median(row.runs.map((r) => r.warmSentencesPerS)).toFixed(0)} | ` +
        `${median(row.runs.map((r) => r.firstVectorMs)).toFixed(0)} ms |`,
    );
  }
  console.log(
    "\nBrowser load → first vector: from navigation start (page and its bundle, model fetched; session made; one sentence encoded). " +
      "Python: from_pretrained + one sentence, interpreter and imports excluded.",
  );
}

await main();
