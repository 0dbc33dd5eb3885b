/**
 * The web bench's way into the npm package. This folder lives in the Python package (src/m2v_edge/bench/web/: the
 * one home of the benchmarks, clone-only, neither in the wheel nor in the npm tarball); the npm package and its
 * node_modules are in web/. ESM resolves a bare import (`onnxruntime-node`, `playwright-core`) from the importing
 * file's folder, which has no node_modules here, so `importFromWeb` resolves it as a file of web/ would.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const WEB_PACKAGE = new URL("../../../../web/package.json", import.meta.url);
const requireFromWeb = createRequire(WEB_PACKAGE);

/** This folder (served at /bench/ by the bench server; no trailing separator, as its mounts expect). */
export const BENCH = dirname(fileURLToPath(import.meta.url));

/**
 * Import a dependency of the npm package (web/package.json) by its bare name.
 * @param {string} name e.g. "onnxruntime-node"
 */
export async function importFromWeb(name) {
  return import(pathToFileURL(requireFromWeb.resolve(name)).href);
}
