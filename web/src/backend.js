/**
 * The ONNX Runtime backend: any module with the `onnxruntime-common` API (`InferenceSession`, `Tensor`, `env`),
 * passed as `{ ort }` or the entry point's default (onnxruntime-web's WASM build in browsers and Node; none in
 * `m2v-edge/core`, the React Native entry).
 */

import { isNode } from "./env.js";

const platform = { defaultOrt: null, readPath: null, sha256: null, noDefaultOrt: "m2v-edge/core has no default" };
/** ORT's log severities: 0 verbose, 1 info, 2 warning, 3 error, 4 fatal (Python sets the same). */
const ORT_FATAL = 4;
/**
 * Options for every `session.run` (a fresh object: onnxruntime-web adds to it): onnxruntime-web logs a failing
 * run at its default (warning) severity otherwise; its errors reach us as exceptions, one-line messages here.
 *
 * @returns {{logSeverityLevel: number}}
 */
export function runOptions() {
  return { logSeverityLevel: ORT_FATAL };
}
let wasmSetup = null;

/**
 * Set by the entry points (`index.js` for Node, `browser.js`): how to get the default ORT module, how to read
 * a folder path.
 *
 * @param {{defaultOrt?: (() => Promise<object>) | null, readPath?: ((folder: string | URL, name: string, kind: string, into?: (size: number) => Uint8Array | null) => Promise<any>) | null, noDefaultOrt?: string}} options
 *   `noDefaultOrt`: what the "no ONNX Runtime backend" error says when `defaultOrt` is null.
 */
export function setPlatform(options) {
  Object.assign(platform, options);
}

/** @returns {{defaultOrt: (() => Promise<object>) | null, readPath: ((folder: string | URL, name: string, kind: string, into?: (size: number) => Uint8Array | null) => Promise<any>) | null, sha256: ((bytes: Uint8Array) => Promise<string>) | null, noDefaultOrt: string}} */
export function getPlatform() {
  return platform;
}

/**
 * Threads used when the caller does not say: several only when the page is cross-origin isolated
 * (SharedArrayBuffer available), else one; Node: one. On an isolated page, onnxruntime-web's own default,
 * half the cores (at most 4): the graph is a Gather and a mean, whose thread hand-offs cost more than they save
 * on 2 cores (Chromium, docs/bench.md: isolated 2-core page, 1 thread 60.8k vs 2 threads 41.7k sentences/s for
 * potion-base-8M, 35.0k vs 27.8k for a Qwen-sized model),
 * and the other half is left to the page and to `tokenizerWorkers`.
 */
export function defaultThreads() {
  if (isNode || !globalThis.crossOriginIsolated) return 1;
  const cores = globalThis.navigator?.hardwareConcurrency ?? 1;
  return Math.max(1, Math.min(Math.ceil(cores / 2), 4));
}

/** @param {unknown} threads @returns {number} */
export function checkThreads(threads) {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new TypeError(`threads must be a positive integer, got ${JSON.stringify(threads)}`);
  }
  return threads;
}

/**
 * Set onnxruntime-web's global WASM options; only the first call (before the first session) takes effect.
 *
 * @param {{wasmPaths?: string | object, threads?: number}} options
 * @returns {{wasmPaths: string | object | undefined, threads: number}} what is in force.
 */
export function configureWasm(options = {}) {
  if (wasmSetup !== null) return wasmSetup;
  const threads = checkThreads(options.threads ?? defaultThreads());
  wasmSetup = { wasmPaths: options.wasmPaths, threads };
  return wasmSetup;
}

/** Which runtime an ORT module is, from `env.versions` (onnxruntime-common sets one key per package). */
function backendName(ort) {
  const versions = ort.env?.versions ?? {};
  if (versions.web) return "onnxruntime-web";
  if (versions.node) return "onnxruntime-node";
  if (versions["react-native"]) return "onnxruntime-react-native";
  return "custom";
}

/**
 * The ORT module to use and the session options that go with it.
 *
 * @param {{ort?: object, threads?: number, wasmPaths?: string | object, sessionOptions?: object}} options
 * @returns {Promise<{ort: any, name: string, threads: number, wasmPaths?: string | object, sessionOptions: object}>}
 */
export async function resolveBackend(options) {
  let ort = options.ort;
  if (ort == null) {
    if (platform.defaultOrt === null) {
      throw new TypeError(
        "no ONNX Runtime backend: pass { ort } (onnxruntime-react-native, onnxruntime-node or onnxruntime-web); " +
          platform.noDefaultOrt,
      );
    }
    ort = await platform.defaultOrt();
  }
  if (typeof ort !== "object" || typeof ort.InferenceSession?.create !== "function" || typeof ort.Tensor !== "function") {
    throw new TypeError("ort must be an ONNX Runtime module (InferenceSession and Tensor), e.g. import * as ort from \"onnxruntime-node\"");
  }
  const name = backendName(ort);
  if (name === "onnxruntime-web" || (ort.env?.wasm && name === "custom")) {
    const setup = configureWasm(options);
    if (setup.wasmPaths !== undefined) ort.env.wasm.wasmPaths = setup.wasmPaths;
    ort.env.wasm.numThreads = setup.threads;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = "fatal"; // ORT's own [E:onnxruntime:...] lines never reach users: its errors reach us as exceptions
    const sessionOptions = { executionProviders: ["wasm"], graphOptimizationLevel: "all", logSeverityLevel: ORT_FATAL, ...options.sessionOptions };
    return { ort, name, threads: setup.threads, wasmPaths: setup.wasmPaths, sessionOptions };
  }
  // Native ORT (Node, React Native): one intra-op thread by default, as the Python runtime (measured fastest
  // for these small graphs); the session's own setting, not a global one.
  const threads = checkThreads(options.threads ?? 1);
  const sessionOptions = {
    executionProviders: ["cpu"],
    graphOptimizationLevel: "all",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    logSeverityLevel: ORT_FATAL,
    ...options.sessionOptions,
  };
  return { ort, name, threads, sessionOptions };
}

/** The first line of an error's message, for one-line errors. */
export function reason(err) {
  const text = err instanceof Error ? err.message : String(err);
  return (text.split("\n")[0] || "unknown error").slice(0, 300);
}

/** The wasm and mjs files ORT asked for (named in its error), else the ones `onnxruntime-web/wasm` asks for. */
function wasmFilesOf(why) {
  const base = why.match(/(ort-wasm[\w.-]*?)\.(?:wasm|mjs)\b/)?.[1] ?? "ort-wasm-simd-threaded";
  return [`${base}.wasm`, `${base}.mjs`];
}

/**
 * Create the inference session; errors name the file and the remedy.
 *
 * @param {Awaited<ReturnType<typeof resolveBackend>>} backend
 * @param {Uint8Array} bytes
 * @param {string} where
 */
export async function createSession(backend, bytes, where) {
  try {
    return await backend.ort.InferenceSession.create(bytes, backend.sessionOptions);
  } catch (err) {
    const why = reason(err);
    if (backend.name === "onnxruntime-web" && /no available backend|WebAssembly|ort-wasm|\.wasm\b|\.mjs\b/i.test(why)) {
      const path = backend.wasmPaths === undefined ? "the default location" : JSON.stringify(backend.wasmPaths);
      throw new Error(
        `onnxruntime-web could not load its WebAssembly from ${path} (${why}); serve ` +
          `${wasmFilesOf(why).join(" and ")} there or pass the right \`wasmPaths\``,
        { cause: err },
      );
    }
    throw new Error(`${where}: ${backend.name} cannot load it (${why}); re-export the model`, { cause: err });
  }
}
