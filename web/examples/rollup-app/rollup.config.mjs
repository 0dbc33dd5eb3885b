/**
 * Rollup does not follow `new Worker(new URL("./tokenize-worker.js", import.meta.url))`: bundle m2v-edge's worker
 * as a second input named tokenize-worker.js, next to the chunk that holds m2v-edge (both in dist/, so the URL
 * resolves to it). The browser entry never imports ONNX Runtime, so nothing else is needed. Prints the warning
 * count.
 */
import { nodeResolve } from "@rollup/plugin-node-resolve";

const warnings = [];

export default {
  input: { main: "main.js", "tokenize-worker": "m2v-edge/tokenize-worker.js" },
  output: { dir: "dist", format: "es", entryFileNames: "[name].js" },
  plugins: [
    nodeResolve({ browser: true }),
    { name: "count-warnings", closeBundle: () => console.log(`rollup: ${warnings.length} warnings`) },
  ],
  onwarn(warning) {
    warnings.push(warning);
    console.error(`rollup warning: ${warning.message}`);
  },
};
