// The exported folder's contract as JavaScript sees it: generated from Python (tests/test_contract.py checks
// the file is current), read by config.js, version checked before keys.
import assert from "node:assert/strict";
import { test } from "node:test";

import { FORMAT_VERSION, parseConfig } from "../src/config.js";
import * as contract from "../src/contract.js";
import { FILES, MODEL_FILES } from "../src/sources.js";

const full = {
  format_version: contract.FORMAT_VERSION,
  dim: 4,
  vocab_size: 10,
  dtype: "int8",
  normalize: true,
  max_length: 512,
  median_token_length: 4,
  unk_token_id: 0,
  pad_token_id: 0,
};

test("config.js and sources.js use the generated contract", () => {
  assert.equal(FORMAT_VERSION, contract.FORMAT_VERSION);
  assert.deepEqual(Object.keys(full), [...contract.REQUIRED_KEYS]);
  assert.deepEqual(FILES, { model: "model.onnx", tokenizer: "tokenizer.json", config: "config.json" });
  assert.deepEqual(MODEL_FILES, [contract.FILES.model, contract.FILES.ortModel]);
  assert.deepEqual([...contract.INPUTS], [contract.INPUT_IDS, contract.ATTENTION_MASK]);
});

test("a future format_version says upgrade, even when keys were renamed", () => {
  const future = { ...full, format_version: contract.FORMAT_VERSION + 1 };
  delete future.median_token_length;
  assert.throws(
    () => parseConfig(JSON.stringify(future), "config.json"),
    new RegExp(`format_version ${contract.FORMAT_VERSION + 1} is newer .*upgrade m2v-edge`),
  );
  assert.throws(() => parseConfig({ format_version: 99 }, "config.json"), /upgrade m2v-edge/);
});

test("a current folder missing a key says re-export", () => {
  const { dim, ...missing } = full;
  assert.equal(dim, 4);
  assert.throws(() => parseConfig(missing, "config.json"), /missing keys \["dim"\]; re-export/);
  assert.equal(parseConfig(JSON.stringify(full), "config.json").dim, 4);
});
