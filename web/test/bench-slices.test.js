/** The benchmarks' fresh slices: disjoint, of the asked size, from unique texts; too few texts is a clear error. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { freshSlices, trainSentences } from "../../src/m2v_edge/bench/web/stsb.mjs";

test("fresh slices share no text and a short pool is refused", () => {
  const pool = trainSentences();
  assert.equal(new Set(pool).size, pool.length);
  assert.ok(pool.length > 4000);
  const slices = freshSlices(pool, 6, 800);
  assert.deepEqual(slices.map((s) => s.length), [800, 800, 800, 800, 800, 800]);
  const seen = new Set(slices.flat());
  assert.equal(seen.size, 6 * 800);
  assert.throws(() => freshSlices(pool, 7, 800), /too few for 7 slices of 800/);
});
