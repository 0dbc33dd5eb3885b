/**
 * Bundle the page and its module Worker with esbuild (browser platform: m2v-edge's "browser" entry, which never
 * imports ONNX Runtime, so no wasm to ship for int8 exports). esbuild leaves
 * `new Worker(new URL("./tokenize-worker.js", import.meta.url))` as it is: m2v-edge's tokenizer worker is a third
 * entry point named tokenize-worker.js, in dist/ next to the chunk that holds m2v-edge.
 */
import { build } from "esbuild";

const result = await build({
  entryPoints: { main: "main.js", worker: "worker.js", "tokenize-worker": "m2v-edge/tokenize-worker.js" },
  bundle: true,
  format: "esm",
  splitting: true,
  platform: "browser",
  target: "es2022",
  minify: true,
  outdir: "dist",
  logLevel: "warning",
});
console.log(`esbuild: ${result.warnings.length} warnings, ${result.errors.length} errors`);
