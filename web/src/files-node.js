/** Node only: read a file of an exported folder given as a path or `file:` URL (the Node entry registers it). */
import { createHash } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { FILES } from "./contract.js";

/**
 * The sha256 of `bytes` as lowercase hex (node:crypto; the browser build uses WebCrypto).
 *
 * @param {Uint8Array} bytes
 * @returns {string}
 */
export function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * @param {string | URL} folder
 * @param {string} name a file of the folder.
 * @param {string} kind "bytes" for a Uint8Array, else text.
 * @param {(size: number) => Uint8Array | null} [into] where to read bytes of that size (null: a new buffer).
 * @returns {Promise<{where: string, value: Uint8Array | string}>}
 */
export async function readPath(folder, name, kind, into = undefined) {
  const dir = folder instanceof URL || /^file:/i.test(folder) ? fileURLToPath(folder) : folder;
  const path = join(dir, name);
  try {
    if (kind === "bytes" && into) {
      const read = await readInto(path, into);
      if (read !== null) return { where: path, value: read };
    }
    const data = await readFile(path);
    return { where: path, value: kind === "bytes" ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString("utf-8") };
  } catch (err) {
    if (err.code === "ENOENT") {
      const how = name === FILES.ortModel ? "m2v-edge export --target mobile" : "m2v-edge export";
      throw new Error(`${path}: no such file; export the model with \`${how}\` and give its folder`, { cause: err });
    }
    throw new Error(`${path}: cannot read it (${err.message})`, { cause: err });
  }
}

/**
 * The file's bytes read into `into(size)`, or null when it gives none.
 *
 * @param {string} path
 * @param {(size: number) => Uint8Array | null} into
 * @returns {Promise<Uint8Array | null>}
 */
async function readInto(path, into) {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    const bytes = into(size);
    if (bytes === null) return null;
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, size - at, at);
      if (bytesRead === 0) break; // shorter than its size said (truncated meanwhile): the checksum names it
      at += bytesRead;
    }
    return at === size ? bytes : bytes.subarray(0, at);
  } finally {
    await handle.close();
  }
}
