#!/usr/bin/env node
/**
 * m2v-edge for Node: `m2v-edge encode MODEL_DIR --input FILE --output FILE.json`.
 *
 * One text per line, split on "\n" only (a final newline does not start an extra text), as the Python CLI;
 * writes a JSON array of arrays (one vector per line) or a `.npy`, streamed (1M vectors in bounded memory). User
 * errors print one line and exit with code 2.
 */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

import { StaticOnnxModel } from "../src/index.js";
import { MODEL_FILES } from "../src/sources.js";

const USAGE = `usage: m2v-edge encode MODEL_DIR --input FILE --output FILE.json|FILE.npy [--batch-size N] [--threads N]
                       [--model-file model.onnx|model.ort] [--backend auto|kernel|web|node]

  MODEL_DIR          a folder written by \`m2v-edge export\` (model.onnx, tokenizer.json, config.json)
  --input FILE       UTF-8 text, one text per line ('-' for stdin)
  --output FILE      file to write (atomically, as it is made): a JSON array of vectors, one per line, or with
                     .npy a float32 [rows, dim] NumPy array; '-' for JSON on stdout
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

/** Write `chunks` (strings or bytes) to a temp file beside `output`, then rename: readers never see half a file. */
async function writeAtomic(output, chunks) {
  const tmp = join(dirname(output), `.${basename(output)}.tmp-${randomBytes(4).toString("hex")}`);
  const handle = await open(tmp, "wx", 0o666);
  try {
    for await (const chunk of chunks) await handle.write(chunk);
    await handle.close();
    await rename(tmp, output);
  } catch (err) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Write `chunks` to stdout, waiting for each to drain (memory stays bounded). */
async function writeStdout(chunks) {
  for await (const chunk of chunks) {
    await new Promise((ok, fail) => process.stdout.write(chunk, (err) => (err ? fail(err) : ok())));
  }
}

/** Texts per encode call while streaming: the output is written as it is made, never held whole. */
const STREAM_TEXTS = 4096;
/**
 * Vectors per JSON write: small strings die young, in V8's young generation. 4,096 1024-d vectors as one string
 * went to its large-object space, collected only by full collections: 10k Qwen-sized vectors peaked at 932 MB of
 * RSS (Node 20), 628 MB with 256 a write, 448 MB with 64, 419 MB with 16 (and no slower).
 */
const JSON_ROWS = 16;

/** The output, piece by piece: a JSON array of vectors (one per line), or a float32 `.npy` [rows, dim]. */
async function* outputChunks(model, texts, batchSize, npy) {
  if (npy) yield npyHeader(texts.length, model.dim);
  else yield "[";
  for (let start = 0; start < texts.length; start += STREAM_TEXTS) {
    const vectors = await model.encode(texts.slice(start, start + STREAM_TEXTS), { batchSize });
    if (npy) {
      const block = new Float32Array(vectors.length * model.dim);
      vectors.forEach((v, i) => block.set(v, i * model.dim));
      yield new Uint8Array(block.buffer);
    } else {
      for (let row = 0; row < vectors.length; row += JSON_ROWS) {
        const lines = vectors.slice(row, row + JSON_ROWS).map((v) => JSON.stringify(Array.from(v)));
        yield `${start + row > 0 ? ",\n" : ""}${lines.join(",\n")}`;
      }
    }
  }
  if (!npy) yield "]\n";
}

/** A NumPy format 1.0 header for a little-endian float32 C-order [rows, dim] array. */
function npyHeader(rows, dim) {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write("\x93NUMPY", 0, "latin1");
  header.writeUInt8(1, 6);
  header.writeUInt8(0, 7);
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, "latin1");
  header.write("\n", total - 1);
  return header;
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
  // one line naming what is wrong (the whole usage is `m2v-edge --help`)
  if (positionals.length > 1) {
    throw new UsageError(`encode takes one MODEL_DIR, got ${positionals.length}: ${positionals.map((p) => JSON.stringify(p)).join(" ")}; see m2v-edge --help`);
  }
  const missing = [positionals.length === 0 && "MODEL_DIR", !values.input && "--input FILE", !values.output && "--output FILE"].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`encode needs ${missing.join(", ")}; see m2v-edge --help`);
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
  const chunks = outputChunks(model, texts, batchSize, output !== null && output.endsWith(".npy"));
  if (output === null) {
    await writeStdout(chunks);
    console.error(`wrote <stdout> (${texts.length} x ${model.dim} float32)`);
  } else {
    await writeAtomic(output, chunks);
    console.log(`wrote ${values.output} (${texts.length} x ${model.dim} float32)`);
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === "-h" || command === "--help" || command === undefined) {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command !== "encode") throw new UsageError(`unknown command ${JSON.stringify(command)}; the one command is encode (see m2v-edge --help)`);
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
