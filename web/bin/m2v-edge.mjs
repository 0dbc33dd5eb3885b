#!/usr/bin/env node
/**
 * m2v-edge for Node: `m2v-edge encode MODEL_DIR --input FILE --output FILE.json`.
 *
 * One text per line, split on "\n" only (a final newline does not start an extra text), as the Python CLI;
 * writes a JSON array of arrays (one vector per line). User errors print one line and exit with code 2.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { StaticOnnxModel } from "../src/index.js";
import { MODEL_FILES } from "../src/sources.js";

const USAGE = `usage: m2v-edge encode MODEL_DIR --input FILE --output FILE.json [--batch-size N] [--threads N]
                       [--model-file model.onnx|model.ort] [--backend auto|kernel|web|node]

  MODEL_DIR          a folder written by \`m2v-edge export\` (model.onnx, tokenizer.json, config.json)
  --input FILE       UTF-8 text, one text per line ('-' for stdin)
  --output FILE      JSON file to write (atomically): an array of vectors, one per line; '-' for stdout
  --batch-size N     texts per graph call (default 256)
  --threads N        WASM (or onnxruntime-node intra-op) threads, 1 to the number of cores
  --model-file NAME  the graph to load: model.onnx (default) or model.ort (\`m2v-edge export --target mobile\`)
  --backend NAME     auto (default): the pooling kernel (WebAssembly SIMD) when it runs the graph, else
                     onnxruntime-web; kernel: the kernel or an error; web: onnxruntime-web; node: onnxruntime-node`;

const BACKENDS = { web: "onnxruntime-web", node: "onnxruntime-node" };

class UsageError extends Error {}

async function readLines(source) {
  let data;
  try {
    data = source === "-" ? await readStdin() : await readFile(source);
  } catch (err) {
    if (err.code === "ENOENT") throw new UsageError(`${source}: no such input file`);
    if (err.code === "EISDIR") throw new UsageError(`${source}: is a folder; give a text file with one text per line`);
    throw err;
  }
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    throw new UsageError(`${source}: not UTF-8; convert the file to UTF-8`);
  }
  if (text.length === 0) return [];
  const lines = text.split("\n");
  return text.endsWith("\n") ? lines.slice(0, -1) : lines;
}

/** Refuse an output that is a folder, in a missing folder, or the input itself. */
async function checkOutput(output, input) {
  const parent = await stat(dirname(output)).catch(() => null);
  if (!parent?.isDirectory()) throw new UsageError(`${dirname(output)}: output folder does not exist`);
  const info = await stat(output).catch(() => null);
  if (info?.isDirectory()) throw new UsageError(`${output}: is a folder; give a file name, e.g. ${join(output, "vectors.json")}`);
  const source = input === "-" ? null : await stat(input).catch(() => null);
  if (info && source && info.dev === source.dev && info.ino === source.ino) {
    throw new UsageError(`${output}: is also the input ${input}; choose another output file`);
  }
  return output;
}

/** Write to a temp file beside `output`, then rename: readers never see half a file. */
async function writeAtomic(output, text) {
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${randomBytes(4).toString("hex")}`);
  const handle = await open(tmp, "wx", 0o666);
  try {
    await handle.writeFile(text);
    await handle.close();
    await rename(tmp, output);
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** The `engine` and `ort` load options for `--backend`. */
async function backendOptions(name) {
  if (name === "auto" || name === "kernel") return { engine: name, ort: undefined };
  const pkg = Object.hasOwn(BACKENDS, name) ? BACKENDS[name] : undefined;
  if (pkg === undefined) throw new UsageError(`--backend must be auto, kernel, web or node, got ${JSON.stringify(name)}`);
  let ort;
  try {
    ort = await import(pkg);
  } catch (err) {
    if (err.code !== "ERR_MODULE_NOT_FOUND") throw err;
    const other = name === "web" ? "node" : "web";
    throw new UsageError(`${pkg} is not installed; \`npm install ${pkg}\`, or --backend ${other} with ${BACKENDS[other]} installed`);
  }
  return { engine: "onnxruntime", ort: name === "web" ? undefined : ort };
}

function positiveInt(value, name) {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, got ${value}`);
  return n;
}

async function encode(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      input: { type: "string" },
      output: { type: "string" },
      "batch-size": { type: "string" },
      threads: { type: "string" },
      "model-file": { type: "string" },
      backend: { type: "string", default: "auto" },
    },
  });
  if (positionals.length !== 1 || !values.input || !values.output) throw new UsageError(USAGE);
  const output = values.output === "-" ? null : await checkOutput(resolve(values.output), values.input);
  const batchSize = positiveInt(values["batch-size"], "--batch-size") ?? 256;
  const threads = positiveInt(values.threads, "--threads");
  const cores = availableParallelism();
  if (threads > cores) throw new UsageError(`--threads ${threads} is out of range; this machine has ${cores} core(s): use 1-${cores}`);
  const backend = await backendOptions(values.backend);
  const texts = await readLines(values.input);
  const modelFile = values["model-file"];
  if (modelFile !== undefined && !MODEL_FILES.includes(modelFile)) {
    throw new UsageError(`--model-file must be ${MODEL_FILES.join(" or ")}, got ${JSON.stringify(modelFile)}`);
  }
  const model = await StaticOnnxModel.load(resolve(positionals[0]), { threads, modelFile, ...backend });
  const vectors = await model.encode(texts, { batchSize });
  const json = `[${vectors.map((v) => JSON.stringify(Array.from(v))).join(",\n")}]\n`;
  if (output === null) {
    await new Promise((ok, fail) => process.stdout.write(json, (err) => (err ? fail(err) : ok())));
    console.error(`wrote <stdout> (${texts.length} x ${model.dim} float32)`);
  } else {
    await writeAtomic(output, json);
    console.log(`wrote ${values.output} (${texts.length} x ${model.dim} float32)`);
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === undefined) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "encode") throw new UsageError(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  await encode(rest);
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // User errors (bad arguments, missing or corrupt files) print one line, exit code 2.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`m2v-edge: error: ${err instanceof UsageError ? message : message.split("\n")[0]}`);
  process.exitCode = 2;
}
