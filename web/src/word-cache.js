/**
 * Memoize the per-word stages of a `@huggingface/tokenizers` Tokenizer: they are pure functions of one word, so
 * a cached answer is the answer, and real text repeats its words. Measured in Node on the 2,758 STS-B test
 * sentences (docs/bench.md, "Browser"): the WordPiece model stage (potion) and the ByteLevel byte mapping (Qwen) were 22 %
 * and 50 % of the JS tokenizer's time. Stages whose shape is not recognised are left as they are, so a change in
 * the library costs speed, never correctness; the golden ids tests guard both.
 */

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
 * The ByteLevel pre-tokenizers that get one piece at a time (`use_regex: false`, after a `Split`, as in Qwen and
 * Llama 3): their answer depends on that piece alone.
 *
 * @param {any} pre
 * @returns {any[]}
 */
function pieceByteLevels(pre) {
  if (!pre) return [];
  if (Array.isArray(pre.tokenizers)) return pre.tokenizers.flatMap(pieceByteLevels);
  const byteLevel = pre.byte_encoder && pre.text_encoder && pre.use_regex === false;
  return byteLevel && typeof pre.pre_tokenize_text === "function" ? [pre] : [];
}

/**
 * Add the word caches to `tokenizer` (in place).
 *
 * @param {any} tokenizer a `Tokenizer` of `@huggingface/tokenizers`.
 * @returns {string[]} the stages cached, for tests and diagnostics.
 */
export function cacheWords(tokenizer) {
  const cached = [];
  const model = tokenizer.model;
  if (model && typeof model.encode === "function") {
    const encode = model.encode.bind(model);
    const one = memo((word) => encode([word]));
    /** @param {string[]} words */
    model.encode = (words) => {
      const out = [];
      for (const word of words) for (const token of one(word)) out.push(token);
      return out;
    };
    cached.push("model");
  }
  for (const pre of pieceByteLevels(tokenizer.pre_tokenizer)) {
    const map = pre.pre_tokenize_text.bind(pre);
    pre.pre_tokenize_text = memo((piece) => map(piece));
    cached.push("byte-level");
  }
  return cached;
}
