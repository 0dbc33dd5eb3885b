/** Shared test helpers: the fixtures written by scripts/make_web_fixtures.py. */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after } from "node:test";

export const WEB = join(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT = join(WEB, "..");
export const FIXTURES = process.env.M2V_WEB_FIXTURES ?? join(WEB, ".fixtures");
export const MODELS = ["potion-int8", "qwen-1024-int8", "unigram-int8"];
export const TRICKY = join(ROOT, "tests", "data", "tricky_texts.json");

/**
 * Where tests write screenshots: the gitignored `artifacts/` at the repo root, or `docs/img/` (the committed
 * images) only when `M2V_EDGE_UPDATE_DOCS_IMAGES=1`.
 */
export function screenshotDir() {
  const dir = process.env.M2V_EDGE_UPDATE_DOCS_IMAGES === "1" ? join(ROOT, "docs", "img") : join(ROOT, "artifacts");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Width and height of a PNG file (throws when it is not a PNG). */
export function pngSize(path) {
  const data = readFileSync(path);
  if (data.length < 24 || data.subarray(0, 8).toString("latin1") !== "\x89PNG\r\n\x1a\n") {
    throw new Error(`${path}: not a PNG`);
  }
  return { width: data.readUInt32BE(16), height: data.readUInt32BE(20), bytes: data.length };
}

/** Fail loudly (not skip) when the fixtures were not generated: the remedy is one command. */
export function fixture(name) {
  const folder = join(FIXTURES, name);
  if (!existsSync(join(folder, "model.onnx"))) {
    throw new Error(
      `${folder}: fixture missing; run \`.venv/bin/python scripts/make_web_fixtures.py\` (or scripts/test-web.sh) first`,
    );
  }
  return folder;
}

/** The shared tricky corpus. */
export function trickyTexts() {
  return JSON.parse(readFileSync(TRICKY, "utf-8"));
}

/** Python's golden ids and vectors for one fixture model. */
export function golden(name) {
  fixture(name);
  return JSON.parse(readFileSync(join(FIXTURES, "golden", `${name}.json`), "utf-8"));
}

/** Largest absolute difference between two equally long numeric arrays. */
export function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** A short printable label for a text in assertion messages. */
export function label(text, index) {
  return `text #${index} ${JSON.stringify(text.slice(0, 40))}${text.length > 40 ? "…" : ""}`;
}

/**
 * A maker of temporary folders named `m2v-edge-<prefix>-*`, all removed when the test file ends.
 *
 * @param {string} prefix
 * @returns {() => string}
 */
export function tempDirs(prefix) {
  const made = [];
  after(() => made.forEach((folder) => rmSync(folder, { recursive: true, force: true })));
  return () => {
    const folder = mkdtempSync(join(tmpdir(), `m2v-edge-${prefix}-`));
    made.push(folder);
    return folder;
  };
}

/**
 * Record the files' current sha256 in config.json's `files` (as Python's tests.corrupt.rehash): a tampered folder
 * made consistent, so a test reaches the check behind the checksums. A config that is not an object with `files`,
 * and files that are gone, are left as they are.
 *
 * @param {string} folder
 */
export function rehash(folder) {
  const path = join(folder, "config.json");
  let config;
  try {
    config = JSON.parse(readFileSync(path, "utf-8"));
  } catch {
    return;
  }
  if (config?.files === null || typeof config?.files !== "object") return;
  for (const name of Object.keys(config.files)) {
    if (existsSync(join(folder, name))) config.files[name] = createHash("sha256").update(readFileSync(join(folder, name))).digest("hex");
  }
  writeFileSync(path, JSON.stringify(config));
}
