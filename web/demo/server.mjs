#!/usr/bin/env node
/**
 * A tiny static server for the demo page, the tests and the benchmark: serves the page, the package source,
 * onnxruntime-web's .wasm files, @huggingface/tokenizers and an exported model folder, all from localhost
 * (no CDN), with the COOP/COEP headers that make the page cross-origin isolated (WASM threads).
 *
 *   npm run demo -- [MODEL_DIR] [--port 8080] [--no-isolation]
 */
import { createReadStream } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

export const WEB = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const ORT_DIST = join(WEB, "node_modules", "onnxruntime-web", "dist");
const TOKENIZERS = join(WEB, "node_modules", "@huggingface", "tokenizers", "dist", "tokenizers.min.mjs");

/** The files a web app must serve for onnxruntime-web's WASM backend (with `onnxruntime-web/wasm`). */
export const ORT_FILES = ["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm"];

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".onnx": "application/octet-stream",
  ".csv": "text/plain; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".map": "application/json",
};

/**
 * Start the server.
 *
 * @param {{port?: number, host?: string, modelDir?: string, mounts?: Record<string, string>, isolated?: boolean,
 *   onRequest?: (path: string) => void}} options
 *   `modelDir` is served at /model/; `mounts` maps more URL prefixes ("/fixtures/") to folders; `isolated` sends
 *   COOP/COEP (default true); `onRequest(path)` is called for every request (tests count downloads with it).
 * @returns {Promise<{url: string, close: () => Promise<void>}>}
 */
export async function startServer(options = {}) {
  const isolated = options.isolated ?? true;
  const files = { "/": join(WEB, "demo", "index.html"), "/vendor/tokenizers.mjs": TOKENIZERS };
  for (const name of ORT_FILES) files[`/ort/${name}`] = join(ORT_DIST, name);
  const mounts = { "/demo/": join(WEB, "demo"), "/src/": join(WEB, "src"), ...(options.mounts ?? {}) };
  if (options.modelDir) mounts["/model/"] = resolve(options.modelDir);

  const serve = async (request, response) => {
    const headers = { "Cache-Control": "no-store", "Cross-Origin-Resource-Policy": "same-origin" };
    if (isolated) {
      headers["Cross-Origin-Opener-Policy"] = "same-origin";
      headers["Cross-Origin-Embedder-Policy"] = "require-corp";
    }
    const path = requestPath(request.url);
    if (path === null) {
      response.writeHead(400, { ...headers, "Content-Type": "text/plain" });
      response.end("bad request: malformed URL\n");
      return;
    }
    options.onRequest?.(path);
    const file = files[path] ?? (await locate(mounts, path));
    const info = file ? await stat(file).catch(() => null) : null;
    if (!info?.isFile() || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { ...headers, "Content-Type": "text/plain" });
      response.end(`not found: ${path}\n`);
      return;
    }
    headers["Content-Type"] = TYPES[extname(file)] ?? "application/octet-stream";
    if (path.startsWith("/src/") && extname(file) === ".js") {
      // Import maps do not reach Web Workers (the tokenizer pool's): resolve the one bare import here instead.
      const body = (await readFile(file, "utf8")).replaceAll('from "@huggingface/tokenizers"', 'from "/vendor/tokenizers.mjs"');
      headers["Content-Length"] = Buffer.byteLength(body);
      response.writeHead(200, headers);
      response.end(request.method === "HEAD" ? undefined : body);
      return;
    }
    headers["Content-Length"] = info.size;
    response.writeHead(200, headers);
    if (request.method === "HEAD") response.end();
    else createReadStream(file).on("error", () => response.destroy()).pipe(response);
  };
  const server = createServer((request, response) => {
    serve(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500, { "Content-Type": "text/plain" });
      response.end("internal error\n");
    });
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", ok);
  });
  const { port } = server.address();
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

/** The decoded path of a request URL, or null when it is malformed (e.g. `/%`, a bad percent escape). */
export function requestPath(url) {
  try {
    return decodeURIComponent(new URL(url, "http://localhost").pathname);
  } catch {
    return null;
  }
}

/**
 * The file a request path names in a mounted folder, or null: no `..` segment, and the file's real path (symlinks
 * resolved) must be inside the folder's real path, so a symlink in the folder never serves a file from elsewhere.
 */
export async function locate(mounts, path) {
  if (path.split(/[/\\]/).includes("..") || path.includes("\0")) return null;
  for (const [prefix, folder] of Object.entries(mounts)) {
    if (!path.startsWith(prefix)) continue;
    const file = normalize(join(folder, path.slice(prefix.length)));
    if (!file.startsWith(folder + sep)) return null;
    const [real, root] = await Promise.all([realpath(file).catch(() => null), realpath(folder).catch(() => null)]);
    return real !== null && root !== null && real.startsWith(root + sep) ? real : null;
  }
  return null;
}

function fail(message) {
  console.error(`m2v-edge demo: error: ${message}`);
  process.exitCode = 2;
}

async function main() {
  let values, positionals;
  try {
    ({ values, positionals } = parseArgs({
      allowPositionals: true,
      options: { port: { type: "string", default: "8080" }, "no-isolation": { type: "boolean", default: false } },
    }));
  } catch (err) {
    fail(`${err.message.split("\n")[0]} (usage: npm run demo -- [MODEL_DIR] [--port 8080] [--no-isolation])`);
    return;
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    fail(`--port ${JSON.stringify(values.port)} is not a TCP port; choose one in 0-65535`);
    return;
  }
  if (positionals.length > 1) {
    fail(`one MODEL_DIR expected, got ${positionals.length} (usage: npm run demo -- [MODEL_DIR] [--port 8080])`);
    return;
  }
  const modelDir = resolve(positionals[0] ?? join(WEB, ".fixtures", "potion-int8"));
  const config = await stat(join(modelDir, "config.json")).catch(() => null);
  if (!config) {
    console.error(
      `m2v-edge demo: error: ${modelDir}: not an exported folder; export one first, e.g.\n` +
        "  m2v-edge export models/potion-base-8M -o out/potion-int8 && npm run demo -- ../out/potion-int8",
    );
    process.exitCode = 2;
    return;
  }
  let url;
  try {
    ({ url } = await startServer({ port, modelDir, isolated: !values["no-isolation"] }));
  } catch (err) {
    fail(`cannot serve on 127.0.0.1:${port} (${err.code ?? err.message}); choose another --port`);
    return;
  }
  console.log(`m2v-edge demo: ${url} (model ${modelDir}); Ctrl-C to stop`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
