/**
 * Bundle the page and its module Worker with esbuild (browser platform: m2v-edge's "browser" entry, no Node
 * modules; code splitting so onnxruntime-web sits in its own chunk), then copy the one wasm file onnxruntime-web/wasm asks for next to the bundles (esbuild leaves
 * `new URL("ort-wasm-simd-threaded.wasm", import.meta.url)` as it is).
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const result = await build({
  entryPoints: ["main.js", "worker.js"],
  bundle: true,
  format: "esm",
  splitting: true, // onnxruntime-web in its own chunk: its WASM worker threads load that chunk, not the app
  platform: "browser",
  target: "es2022",
  minify: true,
  outdir: "dist",
  logLevel: "warning",
});
mkdirSync("dist", { recursive: true });
const wasm = fileURLToPath(import.meta.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm"));
copyFileSync(wasm, "dist/ort-wasm-simd-threaded.wasm");
console.log(`esbuild: ${result.warnings.length} warnings, ${result.errors.length} errors; copied ${wasm}`);
