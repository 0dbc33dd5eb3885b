/**
 * Byte-pair merges over integer ids, for the words of a BPE tokenizer that miss the word cache (word-cache.js).
 *
 * `@huggingface/tokenizers`' BPE keys every candidate pair by `JSON.stringify([left, right])` and keeps a heap of
 * linked nodes: on unseen Qwen-family text that merge loop was about a quarter of the browser's encode (docs/bench.md,
 * "Where the time goes"). Here the merges are an open-addressing table of (left id, right id) -> (rank, merged id)
 * in typed arrays, and a word is merged in place in an Int32Array: no string, object or heap node per step.
 *
 * The answer is Python `tokenizers`' (Rust `BPE::merge_word` + `Word::merge_all`): repeatedly merge the adjacent
 * pair of lowest rank, the leftmost among equals (the same pair met twice), until no pair is a merge; a merge met
 * twice in the file keeps its later rank (Rust collects the merges into a HashMap). Used only where that is all a
 * word needs: every character a vocabulary token, no dropout, no subword prefix or suffix, the merged token of every
 * merge in the vocabulary (else the file is one Rust refuses to load: left to the library).
 *
 * Two ways in: `deferredFastBpe` answers the words of a tokenizer the library built, once 1,000 words have missed the
 * caches; `leanByteLevel` (byte-level BPE: Qwen, GPT-2, Llama 3) builds the vocabulary maps and the table itself and
 * has the library built without them, whose own `Object.entries` map and `JSON.stringify` ranks were most of the
 * load (Node, Qwen: ~300 ms of the library's constructor). `web/test/fast-bpe.test.js` compares with the library.
 */

import { BPE, ByteLevelPreTokenizer } from "@huggingface/tokenizers";

/** Longer words are merged with a heap (O(n log n)); shorter ones by scanning (faster below this). */
export const MAX_SCAN = 128;
/** Words that miss the word cache before the table is built (`deferredFastBpe`). */
export const BUILD_AFTER = 1000;
const EMPTY = -1;
const LEAN = Symbol("m2v-edge lean byte-level BPE");
const POSITION = 2 ** 22; // heap keys: rank * POSITION + position (words are cut far below 4M characters)

/**
 * A merge function over `ids` (token -> id), `vocab` (id -> token) and `merges` ([left, right] or "left right").
 * `indexIsId`: `vocab` was built from `ids` alone, so `ids.get(vocab[i]) === i` (the lean build); a library's
 * maps may disagree (an added token that reuses a vocabulary token's text under another id), and every id then
 * comes from `ids`, the map the merges' own pairs are looked up in.
 *
 * @returns {((word: string) => string[] | null) | null} the word's tokens (null: a character that is not a token);
 *   null when a merge is malformed or makes a token outside the vocabulary.
 */
function mergeTable(ids, vocab, merges, ignoreMerges, indexIsId) {
  let size = 1024;
  while (size < merges.length / 0.6) size *= 2;
  const mask = size - 1;
  const lefts = new Int32Array(size).fill(EMPTY);
  const rights = new Int32Array(size);
  const ranks = new Int32Array(size);
  const merged = new Int32Array(size);
  /** The pair's slot, or EMPTY when the pair is no merge. */
  const find = (/** @type {number} */ left, /** @type {number} */ right) => {
    let h = (Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 1, 0x85ebca77)) & mask;
    while (lefts[h] !== EMPTY) {
      if (lefts[h] === left && rights[h] === right) return h;
      h = (h + 1) & mask;
    }
    return -1 - h;
  };
  for (let rank = 0; rank < merges.length; rank++) {
    const pair = typeof merges[rank] === "string" ? merges[rank].split(" ", 2) : merges[rank];
    if (!Array.isArray(pair) || pair.length !== 2) return null;
    const left = ids.get(pair[0]);
    const right = ids.get(pair[1]);
    // A BPE vocabulary usually lists each merge's token at 256 + rank: compared in place, no concatenation, and
    // its id is that index where `vocab` was built from `ids` (no lookup: a third of the lean build's merge loop)
    const guess = vocab[256 + rank];
    const [a, b] = pair;
    const placed = guess !== undefined && guess.length === a.length + b.length && guess.startsWith(a) && guess.endsWith(b);
    const into = placed ? (indexIsId ? 256 + rank : ids.get(guess)) : ids.get(a + b);
    if (left === undefined || right === undefined || into === undefined) return null;
    const found = find(left, right);
    const h = found >= 0 ? found : -1 - found;
    lefts[h] = left;
    rights[h] = right;
    ranks[h] = rank;
    merged[h] = into;
  }
  const charIds = new Int32Array(0x10000).fill(EMPTY);
  for (const [token, id] of ids) if (token.length === 1) charIds[token.charCodeAt(0)] = id;
  let symbols = new Int32Array(MAX_SCAN);

  /** Merge `symbols[0..n)` by scanning for the lowest rank each step; returns the new length. */
  const scan = (/** @type {number} */ n) => {
    let length = n;
    while (length > 1) {
      let best = 0x7fffffff;
      let at = -1;
      let into = 0;
      for (let i = 0; i + 1 < length; i++) {
        const h = find(symbols[i], symbols[i + 1]);
        if (h >= 0 && ranks[h] < best) {
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
    return length;
  };

  /** The same merges with a min-heap of (rank, position) over a linked list, for long words; returns the length. */
  const heap = (/** @type {number} */ n) => {
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const keys = new Float64Array(2 * n);
    let count = 0;
    const push = (/** @type {number} */ key) => {
      let i = count++;
      while (i > 0 && keys[(i - 1) >> 1] > key) {
        keys[i] = keys[(i - 1) >> 1];
        i = (i - 1) >> 1;
      }
      keys[i] = key;
    };
    const pop = () => {
      const top = keys[0];
      const last = keys[--count];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= count) break;
        if (child + 1 < count && keys[child + 1] < keys[child]) child += 1;
        if (keys[child] >= last) break;
        keys[i] = keys[child];
        i = child;
      }
      keys[i] = last;
      return top;
    };
    const offer = (/** @type {number} */ at) => {
      if (at < 0 || next[at] < 0) return;
      const h = find(symbols[at], symbols[next[at]]);
      if (h >= 0) push(ranks[h] * POSITION + at);
    };
    for (let i = 0; i < n; i++) [next[i], prev[i]] = [i + 1 < n ? i + 1 : -1, i - 1];
    for (let i = 0; i + 1 < n; i++) offer(i);
    while (count > 0) {
      const key = pop();
      const at = key % POSITION;
      const rank = (key - at) / POSITION;
      const right = next[at];
      if (symbols[at] === EMPTY || right < 0) continue;
      const h = find(symbols[at], symbols[right]);
      if (h < 0 || ranks[h] !== rank) continue; // stale: this position's pair changed since it was offered
      symbols[at] = merged[h];
      symbols[right] = EMPTY;
      next[at] = next[right];
      if (next[at] >= 0) prev[next[at]] = at;
      offer(prev[at]);
      offer(at);
    }
    let length = 0;
    for (let i = 0; i >= 0 && i < n; i = next[i]) symbols[length++] = symbols[i];
    return length;
  };

  return (word) => {
    if (ignoreMerges && ids.has(word)) return [word];
    const n = word.length;
    if (n > symbols.length) symbols = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const code = word.charCodeAt(i);
      const id = code >= 0xd800 && code <= 0xdfff ? EMPTY : charIds[code]; // Rust's characters are code points
      if (id === EMPTY) return null;
      symbols[i] = id;
    }
    const length = n <= MAX_SCAN ? scan(n) : heap(n);
    const out = new Array(length);
    for (let i = 0; i < length; i++) out[i] = vocab[symbols[i]];
    return out;
  };
}

/** @param {any} config a BPE model's tokenizer.json entry (or the library model's config). */
function plainBpe(config) {
  return !(config.dropout || config.continuing_subword_prefix || config.end_of_word_suffix || config.continuing_subword_suffix);
}

/**
 * A per-word merge function for a library-built `model`, or null when the model is not one it answers exactly.
 *
 * @param {any} model the tokenizer's model (a `BPE` of `@huggingface/tokenizers`).
 * @returns {((word: string) => string[] | null) | null} the word's tokens, or null for a word it leaves to the library.
 */
export function fastBpe(model) {
  if (!(model instanceof BPE) || model[LEAN] || !(model.tokens_to_ids instanceof Map) || !Array.isArray(model.merges)) return null;
  if (!plainBpe({ ...model.config, end_of_word_suffix: model.end_of_word_suffix, continuing_subword_suffix: model.continuing_subword_suffix })) return null;
  return mergeTable(model.tokens_to_ids, model.vocab, model.merges, Boolean(model.ignore_merges), false);
}

/**
 * `fastBpe` built once `BUILD_AFTER` words have asked (the table takes ~100 ms for Qwen's 151,387 merges in Node:
 * a query or a short page would pay that for nothing, a corpus gets it back within a few thousand words). Until then
 * the function answers `null` and the library answers the word: the same tokens either way.
 *
 * @param {any} model
 * @returns {((word: string) => string[] | null) | null} null when `fastBpe` never applies to this model.
 */
export function deferredFastBpe(model) {
  if (!(model instanceof BPE) || model[LEAN]) return null;
  let asked = 0;
  /** @type {((word: string) => string[] | null) | null | undefined} */
  let merge;
  return (word) => {
    if (merge === undefined && ++asked > BUILD_AFTER) merge = fastBpe(model);
    return merge ? merge(word) : null;
  };
}

/** Whether a pre-tokenizer entry of tokenizer.json is, or holds, ByteLevel. */
function hasByteLevel(pre) {
  return Boolean(pre) && (pre.type === "ByteLevel" || (Array.isArray(pre.pretokenizers) && pre.pretokenizers.some(hasByteLevel)));
}

/**
 * For a byte-level BPE tokenizer.json: the same file without its vocabulary and merges for the library to build,
 * and `install`, which gives the built tokenizer's model this module's maps and merges. Every word a byte-level
 * pre-tokenizer hands the model is made of the 256 byte characters, all of them vocabulary tokens (checked), so the
 * table answers every word and the library's (empty) merges are never asked. Null for any other tokenizer, or when
 * anything in the file is unexpected (the library then builds it as usual and validation reports what is wrong).
 *
 * @param {any} json the parsed tokenizer.json.
 * @returns {{json: any, vocabIds: number, install: (tokenizer: any) => void} | null}
 */
export function leanByteLevel(json) {
  const config = json?.model;
  if (config?.type !== "BPE" || !plainBpe(config) || config.byte_fallback || !hasByteLevel(json.pre_tokenizer)) return null;
  const source = config.vocab;
  if (!source || typeof source !== "object" || Array.isArray(source) || !Array.isArray(config.merges)) return null;
  const ids = new Map();
  const vocab = [];
  const tokens = Object.keys(source); // own keys; faster than for...in over 151k keys (Qwen: 55 vs 75 ms, Node)
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const id = source[token];
    if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) return null;
    ids.set(token, id);
    vocab[id] = token;
  }
  // the library's own byte -> character table: the characters its ByteLevel pre-tokenizer hands the model
  const bytes = new ByteLevelPreTokenizer({}).byte_encoder;
  if (!Array.from({ length: 256 }, (_, byte) => bytes[byte]).every((c) => ids.has(c))) return null;
  const ignoreMerges = Boolean(config.ignore_merges);
  const merge = mergeTable(ids, vocab, config.merges, ignoreMerges, true);
  if (merge === null) return null;
  return {
    json: { ...json, model: { ...config, vocab: {}, merges: [] } },
    vocabIds: vocab.length, // one more than the vocabulary's largest id, every id checked (validate.js reuses it)
    install(tokenizer) {
      const model = tokenizer.model;
      for (const token of tokenizer.added_tokens) {
        ids.set(token.content, token.id); // as the library's constructor does to its own maps
        vocab[token.id] = token.content;
      }
      Object.assign(model, { tokens_to_ids: ids, vocab, merges: config.merges, unk_token_id: ids.get(model.unk_token), [LEAN]: true });
      /** @param {string[]} tokens */
      model.encode = (tokens) => {
        const out = [];
        for (const word of tokens) {
          const got = merge(word);
          if (got === null) throw new Error(`byte-level BPE got a word with a character outside its byte alphabet: ${JSON.stringify(word)}`);
          for (const token of got) out.push(token);
        }
        return out;
      };
    },
  };
}

/**
 * Whether `model` was given its maps by `leanByteLevel` (its words never reach the library's BPE).
 *
 * @param {any} model
 * @returns {boolean}
 */
export function isLean(model) {
  return Boolean(model?.[LEAN]);
}
