/**
 * The texts the benchmarks encode. `stsbSentences`: the STS-B test sentences (both of every pair, fields 5 and 6,
 * in file order). `freshSlices`: disjoint slices of the unique STS-B train sentences (packaged with the Python
 * package), one per timed repeat, so no repeat encodes a text its page or process has seen (word caches start cold
 * for it).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const DATA = fileURLToPath(new URL("../../source/data/stsb/", import.meta.url)); // packaged with m2v_edge
export const STSB = join(DATA, "sts-test.csv");
export const TRAIN_SENTENCES = join(DATA, "sts-train-sentences.txt");

export function stsbSentences() {
  const out = [];
  for (const line of readFileSync(STSB, "utf-8").split("\n")) {
    const fields = line.split("\t");
    if (fields.length > 6) out.push(...fields.slice(5, 7).map((s) => s.trim()));
  }
  return out.filter((s) => s.length > 0);
}

/** The unique, non-empty STS-B train sentences in file order. */
export function trainSentences() {
  const lines = readFileSync(TRAIN_SENTENCES, "utf-8").split("\n").map((s) => s.trim());
  return [...new Set(lines.filter((s) => s.length > 0))];
}

/**
 * `count` disjoint slices of `size` consecutive texts of `pool` (slice 0 warms up, each later one is a timed repeat).
 * @param {string[]} pool
 * @param {number} count
 * @param {number} size
 */
export function freshSlices(pool, count, size) {
  if (count * size > pool.length) {
    throw new Error(`${pool.length} unseen texts are too few for ${count} slices of ${size}; use fewer repeats or --texts`);
  }
  return Array.from({ length: count }, (_, i) => pool.slice(i * size, (i + 1) * size));
}
