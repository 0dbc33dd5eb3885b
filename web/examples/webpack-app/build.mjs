/**
 * Build the page with webpack 5's Node API (no configuration needed for m2v-edge: the "browser" condition picks
 * the entry that never imports ONNX Runtime, and webpack emits `new Worker(new URL("./tokenize-worker.js",
 * import.meta.url))` as a chunk of its own); prints the warning count.
 */
import { copyFileSync, mkdirSync } from "node:fs";

import webpack from "webpack";

const stats = await new Promise((resolve, reject) => {
  webpack(
    {
      mode: "production",
      entry: "./main.js",
      output: { path: new URL("dist", import.meta.url).pathname, filename: "main.js", module: true, chunkFormat: "module", clean: true },
      experiments: { outputModule: true },
      performance: { hints: false }, // the page's JS is small; the model is fetched, not bundled
    },
    (err, result) => (err ? reject(err) : resolve(result)),
  );
});
const { warnings, errors } = stats.toJson({ all: false, warnings: true, errors: true });
for (const problem of [...errors, ...warnings]) console.error(problem.message);
mkdirSync("dist", { recursive: true });
copyFileSync("index.html", "dist/index.html");
console.log(`webpack: ${warnings.length} warnings, ${errors.length} errors`);
if (errors.length) process.exit(1);
