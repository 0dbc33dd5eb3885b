/**
 * `npm pack` the package once per test process, and install the tarball into a copy of an example app
 * (offline: every dependency is in the npm cache after web/'s `npm ci`; the examples' dependencies are a subset
 * of web/'s devDependencies).
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";

import { WEB } from "./helpers.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "m2v-edge-pack-"));
process.on("exit", () => rmSync(work, { recursive: true, force: true }));
let packed = null;

/** Environment for npm: no onnxruntime-node download step (its CPU binaries ship in the package). */
export const NPM_ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip", npm_config_update_notifier: "false" };

/** Run a command; reject with its output on failure. */
export async function sh(cmd, args, options = {}) {
  try {
    return await run(cmd, args, { env: NPM_ENV, maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options });
  } catch (err) {
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${err.code}):\n${err.stdout ?? ""}${err.stderr ?? ""}`, { cause: err });
  }
}

/** @returns {Promise<{tarball: string, size: number, unpackedSize: number, files: string[]}>} */
export function pack() {
  packed ??= (async () => {
    const { stdout } = await sh("npm", ["pack", "--json", "--pack-destination", work, "--loglevel=error"], { cwd: WEB });
    const info = JSON.parse(stdout.slice(stdout.indexOf("[")))[0];
    return { tarball: join(work, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path) };
  })();
  return packed;
}

/**
 * Copy examples/NAME into a temp folder (`as`, default NAME; the files it links from examples/common/ copied as
 * files) and install the packed tarball into it, with each of the app's other dependencies and `add` (e.g.
 * ["onnxruntime-web"]) at the version web/ has installed (so the npm cache has it); returns the app folder.
 */
export async function installExample(name, { as = name, add = [] } = {}) {
  const { tarball } = await pack();
  const app = join(work, as);
  cpSync(join(WEB, "examples", name), app, {
    recursive: true,
    dereference: true,
    filter: (src) => !/node_modules|[\\/](dist|out|\.next)$/.test(src),
  });
  const manifest = JSON.parse(readFileSync(join(app, "package.json"), "utf-8"));
  const pinned = [...Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }), ...add]
    .filter((dep) => dep !== "m2v-edge")
    .map((dep) => `${dep}@${installedVersion(dep, name)}`);
  const args = ["install", "--prefer-offline", "--no-audit", "--no-fund", "--no-save", "--loglevel=error", tarball, ...pinned];
  await sh("npm", args, { cwd: app });
  return app;
}

/** The version of `dep` in web/node_modules, else (the Next.js example's next, react, react-dom) the app's range. */
function installedVersion(dep, name) {
  const installed = join(WEB, "node_modules", dep, "package.json");
  if (existsSync(installed)) return JSON.parse(readFileSync(installed, "utf-8")).version;
  const manifest = JSON.parse(readFileSync(join(WEB, "examples", name, "package.json"), "utf-8"));
  const range = manifest.dependencies?.[dep] ?? manifest.devDependencies?.[dep];
  if (range === undefined) throw new Error(`examples/${name} needs ${dep}, which is not a devDependency of web/`);
  return range;
}

/** Every file under `dir` with its raw and gzipped size (bytes), largest first. */
export function sizes(dir) {
  const out = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push({ file: relative(dir, path), raw: statSync(path).size, gzip: gzipSync(readFileSync(path)).length });
    }
  };
  walk(dir);
  return out.sort((a, b) => b.raw - a.raw);
}

/** "12.3 MB" / "45 kB". */
export function human(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}
