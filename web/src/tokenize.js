/**
 * Tokenization with the rules of docs/format.md, identical to Python's `TextTokenizer.encode_ids`:
 *
 * 1. cut each text to `max_length * median_token_length` Unicode code points (not UTF-16 units);
 * 2. encode with tokenizer.json, no special tokens;
 * 3. keep the first `max_length` ids (before step 4, as model2vec does);
 * 4. drop every id equal to `unk_token_id`.
 */
import { Tokenizer } from "@huggingface/tokenizers";

import { leanByteLevel } from "./fast-bpe.js";
import { checkUnicode } from "./validate.js";
import { makeExact, speedUp } from "./word-cache.js";

/**
 * The first `limit` code points of `text` (Python's `text[:limit]`).
 *
 * @param {string} text
 * @param {number} limit
 * @returns {string}
 */
export function cutCodePoints(text, limit) {
  if (text.length <= limit) {
    return text; // UTF-16 length >= code-point count, so nothing to cut
  }
  let points = 0;
  let units = 0;
  while (units < text.length && points < limit) {
    const code = text.charCodeAt(units);
    const pair = code >= 0xd800 && code <= 0xdbff && units + 1 < text.length;
    const next = pair ? text.charCodeAt(units + 1) : 0;
    units += pair && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
    points += 1;
  }
  return text.slice(0, units);
}

/**
 * Check `encode` input: a string or an array of strings.
 *
 * @param {unknown} texts
 * @returns {{items: string[], single: boolean}}
 */
export function checkTexts(texts) {
  if (typeof texts === "string") {
    checkUnicode(texts, "text");
    return { items: [texts], single: true };
  }
  if (!Array.isArray(texts)) {
    const kind = texts === null ? "null" : typeof texts;
    throw new TypeError(`texts must be a string or an array of strings, got ${kind}`);
  }
  texts.forEach((text, index) => {
    if (typeof text !== "string") {
      const kind = text === null ? "null" : typeof text;
      throw new TypeError(`texts[${index}] is ${kind}, expected a string; convert it first`);
    }
    checkUnicode(text, `texts[${index}]`);
  });
  return { items: texts, single: false };
}

/** A Hugging Face tokenizer.json with model2vec's pre-cut, truncation and unknown-token rules. */
export class TextTokenizer {
  /**
   * @param {object} tokenizerJson the parsed tokenizer.json.
   * @param {object} config the exported config.json (max_length, median_token_length, unk_token_id, pad_token_id).
   * @param {{wordCache?: boolean}} [options] `wordCache: false` leaves out the speed-ups (tests compare both).
   */
  constructor(tokenizerJson, config, { wordCache = true } = {}) {
    // Byte-level BPE: the vocabulary maps and merges built here, not by the library (fast-bpe.js); not for the
    // plain tokenizer that tests compare with.
    const lean = wordCache ? leanByteLevel(tokenizerJson) : null;
    this.tokenizer = new Tokenizer(lean === null ? tokenizerJson : lean.json, {});
    lean?.install(this.tokenizer);
    /** One more than the vocabulary's largest id when the lean build has read them all (validate.js), else null. */
    this.vocabIds = lean?.vocabIds ?? null;
    /** The stages replaced by Python `tokenizers`' behaviour (see word-cache.js `makeExact`). */
    this.exact = makeExact(this.tokenizer);
    /** The tokenizer stages sped up (see word-cache.js). */
    this.speedups = wordCache ? speedUp(this.tokenizer) : [];
    this.maxLength = config.max_length == null ? null : Number(config.max_length);
    this.medianTokenLength = Number(config.median_token_length);
    this.unkTokenId = config.unk_token_id == null ? null : Number(config.unk_token_id);
    this.padTokenId = Number(config.pad_token_id ?? 0);
  }

  /**
   * Token ids of one text, unknown ids dropped.
   *
   * @param {string} text
   * @param {number | null | undefined} [maxLength] token limit; `undefined` uses the model's, `null` none.
   * @returns {number[]}
   */
  encodeIds(text, maxLength = undefined) {
    const limit = maxLength === undefined ? this.maxLength : maxLength;
    const cut = limit == null ? text : cutCodePoints(text, limit * this.medianTokenLength);
    let ids = cut.length === 0 ? [] : this.tokenizer.encode(cut, { add_special_tokens: false }).ids;
    if (limit != null && ids.length > limit) {
      ids = ids.slice(0, limit);
    }
    const unk = this.unkTokenId;
    return unk == null ? ids : ids.filter((id) => id !== unk);
  }
}
