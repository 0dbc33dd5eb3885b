/** Where this code runs. */

/** True under Node (file paths are read from disk, one WASM thread by default). */
export const isNode = typeof process !== "undefined" && process.versions != null && process.versions.node != null;
