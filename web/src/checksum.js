/**
 * Checksums of an exported folder (docs/format.md, "Checksums"), checked at every load like Python's
 * `m2v_edge.validate.verify_files`: config.json's `files` maps each other file to its sha256; the graph and
 * tokenizer.json a runtime reads are hashed (node:crypto in Node, WebCrypto `crypto.subtle.digest` in browsers)
 * and a mismatch is one line naming the file. The config embedded in the graph must agree with config.json
 * (`CHECKED_GRAPH_KEYS`), which catches another model's graph even in exports made before checksums.
 */
import { getPlatform } from "./backend.js";
import { checkFolderPath } from "./config.js";
import { CHECKED_GRAPH_KEYS, CHECKSUMS_KEY, INTEGRITY_MESSAGES, METADATA_KEY } from "./contract.js";
import { fill } from "./validate.js";

const noticed = new Set();

/** console.warn once per process (or page) for each kind of notice. */
function warnOnce(kind, text) {
  if (noticed.has(kind)) return;
  noticed.add(kind);
  console.warn(`m2v-edge: ${text}`);
}

const hex = (buffer) => Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");

/**
 * The sha256 of `bytes` as lowercase hex: the platform's (node:crypto) or WebCrypto's; null when neither exists
 * (a browser page not served over HTTPS or localhost, some React Native engines).
 *
 * @param {Uint8Array} bytes
 * @returns {Promise<string | null>}
 */
export async function sha256Hex(bytes) {
  const platform = getPlatform().sha256;
  if (platform) return platform(bytes);
  const subtle = globalThis.crypto?.subtle;
  return subtle ? hex(await subtle.digest("SHA-256", bytes)) : null;
}

/**
 * config.json's `files`, checked (an object of plain relative paths to sha256 hex strings); null, with a
 * one-time notice, for an export made before checksums were recorded.
 *
 * @param {object} config
 * @param {string} where config.json's path or URL.
 * @returns {Record<string, string> | null}
 */
export function listedChecksums(config, where) {
  const listed = config[CHECKSUMS_KEY];
  if (listed === undefined || listed === null) {
    warnOnce("no_checksums", fill(INTEGRITY_MESSAGES.no_checksums, { where }));
    return null;
  }
  const good =
    typeof listed === "object" && !Array.isArray(listed) && Object.values(listed).every((sha) => typeof sha === "string" && /^[0-9a-f]{64}$/.test(sha));
  if (!good) throw new Error(fill(INTEGRITY_MESSAGES.bad_list, { where, got: JSON.stringify(listed).slice(0, 120) }));
  for (const name of Object.keys(listed)) checkFolderPath(name, CHECKSUMS_KEY, where);
  return listed;
}

/**
 * Hash the files a load read and compare them with config.json's `files`.
 *
 * @param {object} config the parsed config.json.
 * @param {string} where config.json's path or URL.
 * @param {Array<{name: string, where: string, bytes: Uint8Array | string | null}>} files `name` relative to the
 *   folder; `bytes` the file's bytes or text (null: given already parsed, which cannot be hashed). Read when this is
 *   called, not later: the returned promise may be awaited after the bytes were used (model.js builds the kernel
 *   and the tokenizer meanwhile).
 */
export async function verifyFiles(config, where, files) {
  const listed = listedChecksums(config, where);
  if (listed === null) return;
  for (const file of files) {
    if (!Object.hasOwn(listed, file.name)) throw new Error(fill(INTEGRITY_MESSAGES.unlisted, { file: file.where }));
  }
  // Every hash starts before this function first waits: WebCrypto copies the bytes when asked (and node:crypto has
  // hashed them by then), so the caller may go on with the bytes, even let them be detached, while it hashes.
  const hashes = files.map(({ bytes }) => {
    if (bytes === null) return null;
    const hashed = sha256Hex(typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes);
    hashed.catch(() => {}); // awaited below, in order
    return hashed;
  });
  for (const [i, file] of files.entries()) {
    if (hashes[i] === null) {
      warnOnce("parsed", `${file.where} was given already parsed, so its checksum cannot be checked; give its text or bytes`);
      continue;
    }
    const got = await hashes[i];
    if (got === null) {
      warnOnce("no_hash", "no sha256 here (crypto.subtle needs HTTPS or localhost), so checksums are not checked");
      return;
    }
    if (got !== listed[file.name]) {
      throw new Error(fill(INTEGRITY_MESSAGES.checksum, { file: file.where, got: got.slice(0, 16), expected: listed[file.name].slice(0, 16) }));
    }
  }
}

const dotted = (object, key) => key.split(".").reduce((value, part) => (value !== null && typeof value === "object" ? value[part] : undefined), object);

/**
 * The config embedded in the graph (its `m2v_edge_config` metadata) must agree with config.json, as Python's
 * `check_graph_config`. A graph without it (not written by m2v-edge) is left to the other checks.
 *
 * @param {object} config
 * @param {Map<string, string> | undefined} metadata the graph's metadata_props.
 * @param {string} where the graph's path or URL.
 */
export function checkGraphConfig(config, metadata, where) {
  let embedded;
  try {
    embedded = JSON.parse(metadata?.get(METADATA_KEY));
  } catch {
    return;
  }
  if (embedded === null || typeof embedded !== "object") return;
  for (const key of CHECKED_GRAPH_KEYS) {
    const [got, expected] = [dotted(embedded, key), dotted(config, key)];
    if (got !== undefined && got !== null && expected !== undefined && expected !== null && got !== expected) {
      throw new Error(fill(INTEGRITY_MESSAGES.graph_config, { file: where, key, got: JSON.stringify(got), expected: JSON.stringify(expected) }));
    }
  }
}
