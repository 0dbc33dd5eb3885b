/**
 * m2v-edge for Node: load an exported folder and embed texts with the same tokens and vectors as the Python
 * runtime. The default backend is onnxruntime-web (WASM, a peer dependency); pass `{ ort }` for another one:
 *
 *   import * as ort from "onnxruntime-node";
 *   import { StaticOnnxModel } from "m2v-edge";
 *   const model = await StaticOnnxModel.load("out/potion-int8", { ort });
 *   const [a, b] = await model.encode(["hello", "world"]);
 */
import { setPlatform } from "./backend.js";
import { readPath, sha256 } from "./files-node.js";

async function defaultOrt() {
  try {
    // Left to Node at run time, not resolved by a bundler building for Node (a Next.js server, webpack
    // target "node"): onnxruntime-web is an optional peer dependency, often not installed.
    return await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ "onnxruntime-web");
  } catch (err) {
    throw new Error(
      `onnxruntime-web is not installed (${err.message}); \`npm install onnxruntime-web\`, or pass { ort } ` +
        '(import * as ort from "onnxruntime-node")',
      { cause: err },
    );
  }
}

setPlatform({ defaultOrt, readPath, sha256 });

export * from "./core.js";
