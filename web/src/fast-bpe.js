/**
 * Byte-pair merges over integer ids, for the words of a BPE tokenizer that miss the word cache (word-cache.js).
 *
 * `@huggingface/tokenizers`' BPE keys every candidate pair by `JSON.stringify([left, right])` and keeps a heap of
 * linked nodes: on unseen Qwen-family text that merge loop was about a quarter of the browser's encode (docs/bench.md,
 * "Where the time goes"). Here the merges are an open-addressing table of (left id, right id) -> (rank, merged id)
 * in typed arrays, and a word is merged in place in an Int32Array: no string, object or heap per step.
 *
 * The answer is Python `tokenizers`' (Rust `BPE::merge_word` + `Word::merge_all`): repeatedly merge the adjacent
 * pair of lowest rank, the leftmost among equals (the same pair met twice), until no pair is a merge; a merge met
 * twice in the file keeps its later rank (Rust collects the merges into a HashMap). Used only where that is all a
 * word needs: every character a vocabulary token, no dropout, no subword prefix or suffix, the merged token of every
 * merge in the vocabulary (else the file is one Rust refuses to load: left to the library); words over
 * `MAX_WORD` characters and any other word go to the library. `web/test/fast-bpe.test.js` compares both on the real
 * Qwen tokenizer; the token differential and golden-id tests compare with Python.
 */

import { BPE } from "@huggingface/tokenizers";

/** Longer words go to the library (its heap is O(n log n); this loop is O(n^2) in the word's length). */
export const MAX_WORD = 128;
/** Words that miss the word cache before the table is built (`deferredFastBpe`). */
export const BUILD_AFTER = 1000;
const EMPTY = -1;

/**
 * A per-word merge function for `model`, or null when the model is not one it answers exactly.
 *
 * @param {any} model the tokenizer's model (a `BPE` of `@huggingface/tokenizers`).
 * @returns {((word: string) => string[] | null) | null} the word's tokens, or null for a word it leaves to the library.
 */
export function fastBpe(model) {
  return applies(model) ? mergeTable(model) : null;
}

/**
 * `fastBpe` built once `BUILD_AFTER` words have asked (the table takes ~100 ms to build for Qwen's 151,387 merges
 * in Node: a query or a short page would pay that for nothing, a corpus gets it back within a few thousand words).
 * Until then the merge function answers `null` and the library answers the word; the same tokens either way.
 *
 * @param {any} model
 * @returns {((word: string) => string[] | null) | null} null when `fastBpe` never applies to this model.
 */
export function deferredFastBpe(model) {
  if (!applies(model)) return null;
  let asked = 0;
  /** @type {((word: string) => string[] | null) | null | undefined} */
  let merge;
  return (word) => {
    if (merge === undefined && ++asked > BUILD_AFTER) merge = mergeTable(model);
    return merge ? merge(word) : null;
  };
}

/** @param {any} model */
function applies(model) {
  const config = model?.config ?? {};
  if (!(model instanceof BPE) || !(model.tokens_to_ids instanceof Map) || !Array.isArray(model.merges)) return false;
  return !(config.dropout || config.continuing_subword_prefix || model.end_of_word_suffix || model.continuing_subword_suffix);
}

/**
 * @param {any} model
 * @returns {((word: string) => string[] | null) | null}
 */
function mergeTable(model) {
  const ids = model.tokens_to_ids;
  const vocab = model.vocab;
  const merges = model.merges;
  let size = 1024;
  while (size < merges.length / 0.6) size *= 2;
  const mask = size - 1;
  const lefts = new Int32Array(size).fill(EMPTY);
  const rights = new Int32Array(size);
  const ranks = new Int32Array(size);
  const merged = new Int32Array(size);
  const slot = (/** @type {number} */ left, /** @type {number} */ right) => {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 1, 0x85ebca77)) & mask;
    while (lefts[h] !== EMPTY && (lefts[h] !== left || rights[h] !== right)) h = (h + 1) & mask;
    return h;
  };
  for (let rank = 0; rank < merges.length; rank++) {
    const pair = merges[rank];
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    const left = ids.get(pair[0]);
    const right = ids.get(pair[1]);
    const into = ids.get(pair[0] + pair[1]);
    if (left === undefined || right === undefined || into === undefined) return null;
    const h = slot(left, right);
    lefts[h] = left;
    rights[h] = right;
    ranks[h] = rank;
    merged[h] = into;
  }
  const charIds = new Int32Array(0x10000).fill(EMPTY);
  for (const [token, id] of ids) if (token.length === 1) charIds[token.charCodeAt(0)] = id; // a lone surrogate too: refused above
  const ignoreMerges = Boolean(model.ignore_merges);
  const symbols = new Int32Array(MAX_WORD);
  return (word) => {
    if (ignoreMerges && ids.has(word)) return [word];
    const n = word.length;
    if (n === 0 || n > MAX_WORD) return n === 0 ? [] : null;
    for (let i = 0; i < n; i++) {
      const code = word.charCodeAt(i);
      const id = code >= 0xd800 && code <= 0xdfff ? EMPTY : charIds[code]; // Rust's characters are code points
      if (id === EMPTY) return null;
      symbols[i] = id;
    }
    let length = n;
    while (length > 1) {
      let best = 0x7fffffff;
      let at = -1;
      let into = 0;
      for (let i = 0; i + 1 < length; i++) {
        const h = slot(symbols[i], symbols[i + 1]);
        if (lefts[h] !== EMPTY && ranks[h] < best) {
          best = ranks[h];
          at = i;
          into = merged[h];
        }
      }
      if (at < 0) break;
      symbols[at] = into;
      symbols.copyWithin(at + 1, at + 2, length);
      length -= 1;
    }
    const out = new Array(length);
    for (let i = 0; i < length; i++) out[i] = vocab[symbols[i]];
    return out;
  };
}
