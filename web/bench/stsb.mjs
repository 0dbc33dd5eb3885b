/** The STS-B test sentences the benchmarks encode: both sentences of every pair (fields 5 and 6), in file order. */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { WEB } from "../demo/server.mjs";

export const STSB = join(WEB, "..", "src", "m2v_edge", "source", "data", "stsb", "sts-test.csv");

export function stsbSentences() {
  const out = [];
  for (const line of readFileSync(STSB, "utf-8").split("\n")) {
    const fields = line.split("\t");
    if (fields.length > 6) out.push(...fields.slice(5, 7).map((s) => s.trim()));
  }
  return out.filter((s) => s.length > 0);
}
