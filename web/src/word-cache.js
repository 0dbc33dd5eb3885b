/**
 * The layer that adapts a `@huggingface/tokenizers` Tokenizer after loading:
 *
 * `makeExact` replaces the stages where the library gives other tokens than Python `tokenizers` (Rust) with
 * ports of the Rust code (the Unigram model below; normalizers and splits in rust-stages.js), or refuses a
 * tokenizer it cannot make exact; web/test/token-diff.test.js compares both libraries on 23 tokenizers.
 *
 * `speedUp` adds speed-ups that leave its answers as they are:
 *
 * - merge a BPE model's words over integer ids (fast-bpe.js), where that gives Rust's tokens;
 * - memoize the per-word stages: they are pure functions of one word, so a cached answer is the answer, and real
 *   text repeats its words. Measured in Node on the 2,758 STS-B test sentences (docs/bench.md, "Browser"): the
 *   WordPiece model stage (potion) and the ByteLevel byte mapping (Qwen) were 22 % and 50 % of the JS tokenizer's
 *   time;
 * - `pre_tokenize` as a loop instead of `map` + `flat`, no added-token split for a text that holds no added
 *   token's first character, and BertNormalizer's per-character work skipped on printable-ASCII texts, where it
 *   changes nothing but the case: against the caches alone, the JS tokenizer 1.66x faster for Qwen, 1.9x for
 *   potion (Node, STS-B test sentences, paired repeats).
 *
 * Stages whose shape is not recognised are left as they are, so a change in the library costs speed, never
 * correctness; the golden ids tests and a comparison with the tokenizer without speed-ups guard both.
 */

import {
  BertNormalizer,
  BertPreTokenizer,
  ByteLevelPreTokenizer,
  LowercaseNormalizer,
  MetaspacePreTokenizer,
  PrecompiledNormalizer,
  Unigram,
  WhitespacePreTokenizer,
  WhitespaceSplitPreTokenizer,
} from "@huggingface/tokenizers";

import { deferredFastBpe, isLean } from "./fast-bpe.js";
import {
  BERT_PRE_PATTERN,
  BYTE_LEVEL_PATTERN,
  WHITESPACE_PATTERN,
  WHITE_SPACE_RUNS,
  bertNormalizer,
  lowercaseChars,
  precompiledNormalizer,
} from "./rust-stages.js";

/** Words remembered per stage; the cache starts over when full. */
export const WORD_CACHE_SIZE = 20_000;
/** Longer words are not remembered (as the library's own BPE cache does), so the caches stay a few MB. */
export const WORD_CACHE_MAX_CHARS = 256;

/**
 * @template T
 * @param {(key: string) => T} compute
 * @returns {(key: string) => T}
 */
function memo(compute) {
  const cache = new Map();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = compute(key);
      if (key.length <= WORD_CACHE_MAX_CHARS) {
        if (cache.size >= WORD_CACHE_SIZE) cache.clear();
        cache.set(key, value);
      }
    }
    return value;
  };
}

/**
 * Whether `pre` is a ByteLevel pre-tokenizer that gets one piece at a time (`use_regex: false`, after a `Split`,
 * as in Qwen and Llama 3): its answer depends on that piece alone.
 *
 * @param {any} pre
 * @returns {boolean}
 */
function isPieceByteLevel(pre) {
  return Boolean(pre.byte_encoder && pre.text_encoder && pre.use_regex === false);
}

/**
 * `pre_tokenize` without `Array.prototype.flat`: the library maps every piece and then flattens, which costs a
 * fifth of Qwen's tokenizer time in V8 (Node, STS-B test sentences, paired repeats: 1.25x faster with this loop;
 * potion unchanged). The same pieces in the same order: `flat()` opens one level, as does the loop.
 *
 * @this {any}
 * @param {string | string[]} text
 * @param {any} options
 * @returns {unknown[]}
 */
function preTokenizeLoop(text, options) {
  const out = [];
  for (const piece of Array.isArray(text) ? text : [text]) {
    const parts = this.pre_tokenize_text(piece, options);
    if (Array.isArray(parts)) for (let i = 0; i < parts.length; i++) out.push(parts[i]);
    else out.push(parts);
  }
  return out;
}

/**
 * Skip the added-token split of a text that holds no added token's first character: the library walks its trie
 * from every character of every text, twice (before and after normalizing); with no first character present
 * its answer is `[text]` (`[]` for ""). Only for a few first characters (Qwen: "<"; none after normalizing), else
 * left as it is.
 *
 * @param {any} splitter a `DictionarySplitter` (`trie` of one-character keys, `split(text)`).
 * @returns {boolean} whether it was patched.
 */
function skipSplits(splitter) {
  const trie = splitter?.trie;
  if (!trie || typeof trie !== "object" || typeof splitter.split !== "function" || "end" in trie) return false;
  const firsts = Object.keys(trie);
  if (firsts.length > 8 || firsts.some((c) => c.length !== 1)) return false;
  const split = splitter.split.bind(splitter);
  /** @param {string} text */
  splitter.split = (text) => {
    for (const c of firsts) if (text.includes(c)) return split(text);
    return text.length > 0 ? [text] : [];
  };
  return true;
}

/** Printable ASCII only: BertNormalizer's cleaning, CJK spacing and accent stripping all leave such a text as it is. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * ByteLevel's characters for a printable-ASCII piece without going through bytes: the library encodes every piece
 * with TextEncoder and maps each byte through its table (a sixth of Qwen's encode on unseen text in Chromium). For
 * such a piece the bytes are its character codes, and GPT-2's table maps 0x21-0x7E to themselves and the space to
 * one other character, so the answer is the piece with its spaces replaced. Checked against the pre-tokenizer's
 * own table when patched; null for a table that does not have that shape (the library's path then).
 *
 * @param {any} pre a ByteLevel pre-tokenizer that gets one piece at a time (`isPieceByteLevel`).
 * @returns {((piece: string) => string[] | null) | null} a piece's answer, or null for other pieces.
 */
function asciiByteLevel(pre) {
  const table = pre.byte_encoder;
  for (let byte = 0x21; byte <= 0x7e; byte++) if (table[byte] !== String.fromCharCode(byte)) return null;
  const space = table[0x20];
  if (typeof space !== "string" || space.length !== 1) return null;
  return (piece) => {
    const text = pre.add_prefix_space && !piece.startsWith(" ") ? ` ${piece}` : piece;
    return PRINTABLE_ASCII.test(text) ? [text.replaceAll(" ", space)] : null;
  };
}

/**
 * BertNormalizer (potion, BERT) tests every character of every text against two Unicode regexes, then NFD-maps
 * the text; on a printable-ASCII text all of that is the identity and only `lowercase` changes it. Other texts,
 * and any other normalizer, take the library's path.
 *
 * @param {any} normalizer
 * @returns {boolean} whether it was patched.
 */
function asciiBertNormalizer(normalizer) {
  const bert = ["clean_text", "tokenize_chinese_chars", "strip_accents", "normalize"].every((k) => typeof normalizer?.[k] === "function");
  if (!bert || typeof normalizer.config !== "object" || normalizer.config === null) return false;
  const normalize = normalizer.normalize.bind(normalizer);
  const lowercase = Boolean(normalizer.config.lowercase);
  /** @param {string} text */
  normalizer.normalize = (text) => (PRINTABLE_ASCII.test(text) ? (lowercase ? text.toLowerCase() : text) : normalize(text));
  return true;
}

/**
 * A pre-tokenizer and those inside it (the steps of a `Sequence`, which hand each other arrays of pieces).
 *
 * @param {any} pre
 * @returns {any[]}
 */
function preTokenizers(pre) {
  if (typeof pre?.pre_tokenize !== "function" || typeof pre.pre_tokenize_text !== "function") return [];
  return [pre, ...(Array.isArray(pre.tokenizers) ? pre.tokenizers.flatMap(preTokenizers) : [])];
}

/** Rust's `K_UNK_PENALTY`: an uncovered character costs the lowest piece score minus this. */
const UNK_PENALTY = 10;

/**
 * The Unigram model's `encode` of one word, exactly as Python `tokenizers` (Rust) encodes it. The library's
 * constructor overwrites the score of the piece at `unk_id` with `min_score - 10`
 * (`this.scores[this.unk_token_id] = this.unk_score`), so a model whose `unk_id` is a real piece (a
 * vocabulary-quantized model with `unk_id` on ".") avoids that piece and picks other paths; it also has no
 * `byte_fallback`. The Rust reference, huggingface/tokenizers tokenizers/src/models/unigram/model.rs, keeps
 * every piece's own score and uses the penalty only for a character no piece of length one covers:
 *
 *     let unk_score = self.min_score - K_UNK_PENALTY;                   // (encode_optimized)
 *     let score = self.vocab.get(*id as usize).unwrap().1;               // the piece's own score, unk_id too
 *     if target_node.starts_at.is_none() || candidate_best_path_score > target_node.best_path_score {
 *     ...
 *     if !has_single_node { ... candidate_best_path_score = unk_score + best_path_score_till_here; ...
 *         target_node.id = self.unk_id.ok_or(UnigramError::MissingUnkId)?; }
 *
 * then walks back from the end, fusing neighbouring nodes whose id is `unk_id` (`fuse_unk` is always true), and
 * in `tokenize` maps a string not in the vocabulary to its `<0xXX>` byte pieces when `byte_fallback` is on and
 * all exist, else to `unk_id`. This is that algorithm over code points (Rust walks UTF-8 bytes; pieces are whole
 * characters, so the positions and the order of candidates are the same), on the library's own trie.
 *
 * @param {any} model a `Unigram` of `@huggingface/tokenizers`.
 * @returns {(word: string) => string[]} the word's tokens (strings the tokenizer maps to ids).
 */
function rustUnigram(model) {
  /** @type {[string, number][]} */
  const vocab = model.config.vocab;
  const unkId = model.config.unk_id ?? null;
  const byteFallback = Boolean(model.config.byte_fallback);
  const ids = model.tokens_to_ids;
  const root = model.trie.root;
  let minScore = Infinity;
  for (const [, score] of vocab) if (score < minScore) minScore = score;
  const unkScore = minScore - UNK_PENALTY;
  const hex = (/** @type {number} */ byte) => `<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`;
  const utf8 = new TextEncoder();
  return (word) => {
    const chars = Array.from(word);
    const n = chars.length;
    const best = new Float64Array(n + 1);
    const from = new Int32Array(n + 1).fill(-1);
    const id = new Int32Array(n + 1);
    const offer = (/** @type {number} */ end, /** @type {number} */ score, /** @type {number} */ start, /** @type {number} */ token) => {
      if (from[end] < 0 || score > best[end]) {
        best[end] = score;
        from[end] = start;
        id[end] = token;
      }
    };
    for (let start = 0; start < n; start++) {
      let single = false;
      let node = root;
      let piece = "";
      for (let end = start; end < n; end++) {
        node = node.children.get(chars[end]);
        if (node === undefined) break;
        piece += chars[end];
        if (!node.is_leaf) continue;
        const token = ids.get(piece);
        offer(end + 1, vocab[token][1] + best[start], start, token);
        if (end === start) single = true;
      }
      if (!single) {
        if (unkId === null) throw new Error("Unigram: Encountered an unknown token but `unk_id` is missing");
        offer(start + 1, unkScore + best[start], start, unkId);
      }
    }
    const out = [];
    let fused = "";
    for (let end = n; end > 0; end = from[end]) {
      const piece = chars.slice(from[end], end).join("");
      if (unkId !== null && id[end] === unkId) {
        fused = piece + fused;
      } else {
        if (fused) out.push(fused);
        fused = "";
        out.push(piece);
      }
    }
    if (fused) out.push(fused);
    out.reverse();
    if (!byteFallback) return out;
    return out.flatMap((token) => {
      if (ids.has(token)) return [token];
      const bytes = Array.from(utf8.encode(token), hex);
      return bytes.every((b) => ids.has(b)) ? bytes : [token];
    });
  };
}

/**
 * Make the tokenizer's stages give Python `tokenizers`' answers where the library differs (in place): the
 * Unigram model (`rustUnigram`) and the SentencePiece `Precompiled` normalizer (precompiled.js). Done before
 * `speedUp`, whose caches then remember the exact answers.
 *
 * @param {any} tokenizer a `Tokenizer` of `@huggingface/tokenizers`.
 * @returns {string[]} the stages replaced.
 */
export function makeExact(tokenizer) {
  const stages = [];
  const model = tokenizer.model;
  if (model instanceof Unigram) {
    const encode = rustUnigram(model);
    /** @param {string[]} words */
    model.encode = (words) => words.flatMap((word) => (word.length === 0 ? [] : encode(word)));
    model.fuse_unk = false; // done by rustUnigram, as Rust does, before the byte fallback
    stages.push("unigram");
  }
  for (const normalizer of normalizers(tokenizer.normalizer)) {
    if (normalizer instanceof PrecompiledNormalizer && typeof normalizer.charsmap === "string") {
      normalizer.normalize = precompiledNormalizer(normalizer.charsmap);
      stages.push("precompiled");
    } else if (normalizer instanceof BertNormalizer) {
      normalizer.normalize = bertNormalizer(normalizer.config);
      stages.push("bert-normalizer");
    } else if (normalizer instanceof LowercaseNormalizer) {
      normalizer.normalize = lowercaseChars;
      stages.push("lowercase");
    }
  }
  const pres = preTokenizers(tokenizer.pre_tokenizer);
  if (pres.some((pre, i) => i > 1 && pre instanceof MetaspacePreTokenizer && pre.prepend_scheme === "first")) {
    // Rust prepends "first" to the piece at original offset 0; the library, to every piece of the first
    // added-token section: after another pre-tokenizer split the text, they differ on most texts.
    throw new Error(
      'Unigram/SentencePiece tokenizer with Metaspace prepend_scheme "first" after another pre-tokenizer: the JavaScript tokenizer library cannot give Python\'s tokens for it (see docs/web.md, "Exact tokens"); use Python',
    );
  }
  const configs = preTokenizerConfigs(tokenizer.tokenizer?.pre_tokenizer);
  pres.forEach((pre, i) => {
    if (pre instanceof MetaspacePreTokenizer && configs.length === pres.length && (configs[i].split ?? true)) {
      // Rust: `normalized.split(self.replacement, SplitDelimiterBehavior::MergedWithNext)` when `split`; the
      // library never splits, so a piece across words ("▁of▁the") could win where Rust cannot see it.
      const before = new RegExp(`(?=${pre.replacement.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")})`, "u");
      const metaspace = pre.pre_tokenize_text.bind(pre);
      pre.pre_tokenize_text = (/** @type {string} */ text, /** @type {any} */ options) =>
        metaspace(text, options).flatMap((/** @type {string} */ piece) => piece.split(before).filter((part) => part.length > 0));
      stages.push("metaspace-split");
    }
  });
  for (const pre of pres) {
    if (pre instanceof ByteLevelPreTokenizer && pre.use_regex) {
      pre.pattern = BYTE_LEVEL_PATTERN;
      stages.push("byte-level-regex");
    } else if (pre instanceof BertPreTokenizer) {
      pre.pre_tokenize_text = (/** @type {string} */ text) => text.match(BERT_PRE_PATTERN) ?? [];
      stages.push("bert-pre-tokenizer");
    } else if (pre instanceof WhitespacePreTokenizer) {
      pre.pre_tokenize_text = (/** @type {string} */ text) => text.match(WHITESPACE_PATTERN) ?? [];
      stages.push("whitespace");
    } else if (pre instanceof WhitespaceSplitPreTokenizer) {
      pre.pre_tokenize_text = (/** @type {string} */ text) => text.split(WHITE_SPACE_RUNS).filter((word) => word.length > 0);
      stages.push("whitespace-split");
    }
  }
  return stages;
}

/**
 * The tokenizer.json entries of a pre-tokenizer and those inside it, in the order of `preTokenizers`.
 *
 * @param {any} config
 * @returns {any[]}
 */
function preTokenizerConfigs(config) {
  if (!config) return [];
  return [config, ...(Array.isArray(config.pretokenizers) ? config.pretokenizers.flatMap(preTokenizerConfigs) : [])];
}

/**
 * A normalizer and those inside it (the steps of a `Sequence`).
 *
 * @param {any} normalizer
 * @returns {any[]}
 */
function normalizers(normalizer) {
  if (!normalizer) return [];
  return [normalizer, ...(Array.isArray(normalizer.normalizers) ? normalizer.normalizers.flatMap(normalizers) : [])];
}

/**
 * Add the speed-ups above to `tokenizer` (in place): the word caches, the flat-free `pre_tokenize`, the ASCII
 * shortcut of BertNormalizer and that of the added-token split, each where its stage is found.
 *
 * @param {any} tokenizer a `Tokenizer` of `@huggingface/tokenizers`.
 * @returns {string[]} the stages sped up, for tests and diagnostics.
 */
export function speedUp(tokenizer) {
  const stages = [];
  const model = tokenizer.model;
  if (model && typeof model.encode === "function") {
    const encode = model.encode.bind(model);
    const merge = deferredFastBpe(model);
    const one = memo(merge === null ? (word) => encode([word]) : (word) => merge(word) ?? encode([word]));
    /** @param {string[]} words */
    model.encode = (words) => {
      const out = [];
      for (const word of words) for (const token of one(word)) out.push(token);
      return out;
    };
    stages.push("model");
    if (merge !== null || isLean(model)) stages.push("bpe-merges");
  }
  const pres = preTokenizers(tokenizer.pre_tokenizer);
  for (const pre of pres.filter(isPieceByteLevel)) {
    const map = pre.pre_tokenize_text.bind(pre);
    const ascii = asciiByteLevel(pre);
    pre.pre_tokenize_text = memo(ascii === null ? (piece) => map(piece) : (piece) => ascii(piece) ?? map(piece));
    stages.push("byte-level");
  }
  for (const pre of pres) pre.pre_tokenize = preTokenizeLoop;
  if (pres.length > 0) stages.push("pre-tokenize");
  if (asciiBertNormalizer(tokenizer.normalizer)) stages.push("bert-normalizer");
  const splits = [tokenizer.splitter_unnormalized, tokenizer.splitter_normalized].map(skipSplits);
  if (splits.some(Boolean)) stages.push("added-tokens");
  return stages;
}
