/**
 * Tokenizer stages as Python `tokenizers` (Rust) runs them, where `@huggingface/tokenizers` 0.2.0 differs
 * (found by web/test/token-diff.test.js); word-cache.js `makeExact` puts them in place.
 *
 * SentencePiece's `Precompiled` normalizer as Python `tokenizers` (Rust) runs it. `@huggingface/tokenizers`
 * 0.2.0 ignores the `precompiled_charsmap` and runs NFKC plus a few replacements instead, which differs from
 * the charsmap on many characters (e.g. the ones nmt_nfkc maps or drops and NFKC keeps).
 *
 * References (huggingface/tokenizers and huggingface/spm_precompiled, read for this port):
 * - tokenizers/src/normalizers/precompiled.rs: for each extended grapheme cluster, `if grapheme.len() < 6`
 *   (UTF-8 bytes) and `self.transform(grapheme)` finds a rule, the whole grapheme becomes its replacement;
 *   otherwise each char becomes `self.transform(char)` or stays as it is.
 * - spm_precompiled src/lib.rs: the charsmap is `[u32 trie size][trie: u32 units][normalized strings, \0-ended]`;
 *   `transform(chunk)` is `trie.common_prefix_search(chunk.as_bytes())` and takes `results[0]` (the SHORTEST
 *   matching prefix, replacing the whole chunk: "Yes, this seems broken" says the Rust comment, and we copy it);
 *   the search stops at a 0 byte; a unit's `has_leaf` is bit 8, `value` the low 31 bits, `label`
 *   `unit & ((1 << 31) | 0xFF)`, `offset` `(unit >> 10) << ((unit & (1 << 9)) >> 6)`.
 */

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * @param {string} base64
 * @returns {Uint8Array}
 */
function decodeBase64(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/**
 * The Rust `Precompiled` normalizer's `normalize`, as a function of the text.
 *
 * @param {string} charsmap the base64 `precompiled_charsmap` of tokenizer.json.
 * @returns {(text: string) => string}
 */
export function precompiledNormalizer(charsmap) {
  if (typeof Intl === "undefined" || typeof Intl.Segmenter !== "function") {
    throw new Error("Precompiled (SentencePiece) normalizer: this JavaScript engine has no Intl.Segmenter (grapheme clusters), so its tokens would differ from Python's; use Node >= 20 or a browser");
  }
  const blob = decodeBase64(charsmap);
  if (blob.length < 4) throw new Error("Precompiled normalizer: precompiled_charsmap is too short to hold its trie");
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const trieBytes = view.getUint32(0, true);
  if (4 + trieBytes > blob.length) throw new Error("Precompiled normalizer: precompiled_charsmap's trie runs past its end");
  const units = new Uint32Array(trieBytes >>> 2);
  for (let i = 0; i < units.length; i++) units[i] = view.getUint32(4 + 4 * i, true);
  const strings = blob.subarray(4 + trieBytes);
  /** @type {Map<number, string>} */
  const decoded = new Map();
  const offset = (/** @type {number} */ unit) => (unit >>> 10) << ((unit & 0x200) >>> 6);

  /** The replacement of `chunk`'s shortest prefix with a rule, or null (spm_precompiled `transform`). */
  const transform = (/** @type {Uint8Array} */ key) => {
    let pos = offset(units[0]);
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      const unit = units[pos];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) return null;
      pos ^= offset(unit);
      if ((unit >>> 8) & 1) {
        const start = units[pos] & 0x7fffffff;
        let text = decoded.get(start);
        if (text === undefined) {
          let end = start;
          while (end < strings.length && strings[end] !== 0) end++;
          text = fromUtf8.decode(strings.subarray(start, end));
          decoded.set(start, text);
        }
        return text;
      }
    }
    return null;
  };

  /** One grapheme cluster's replacement (a pure function of it, remembered: text repeats its characters). */
  const graphemes = new Map();
  const grapheme = (/** @type {string} */ segment) => {
    let out = graphemes.get(segment);
    if (out === undefined) {
      const bytes = utf8.encode(segment);
      out = bytes.length < 6 ? transform(bytes) : null;
      if (out === null) {
        out = "";
        for (const char of segment) out += transform(utf8.encode(char)) ?? char;
      }
      if (graphemes.size >= 20_000) graphemes.clear();
      graphemes.set(segment, out);
    }
    return out;
  };
  const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return (text) => {
    let out = "";
    for (const { segment } of segmenter.segment(text)) out += grapheme(segment);
    return out;
  };
}

/** Rust's `char::is_whitespace` (the White_Space property); JS `\s` adds U+FEFF and misses U+0085. */
const WHITE_SPACE = /^\p{White_Space}$/u;
/** `unicode_categories`' `is_other` (Cc, Cf, Cn, Co, Cs), BertNormalizer's "control". */
const OTHER = /^\p{C}$/u;
/** Rust BertNormalizer's `is_chinese_char` ranges (the JS library's fifth range starts at 0x2B820, Rust's at 0x2B920). */
const CHINESE = [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f], [0x2b920, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]];

/**
 * BertNormalizer as tokenizers/src/normalizers/bert.rs runs it: clean text (drop NUL, U+FFFD and "other" chars
 * but \t \n \r; White_Space -> " "), spaces around Chinese characters by code point (the library walks UTF-16
 * units, so it misses the supplementary planes), then `strip_accents` (NFD, drop Mn) BEFORE lowercasing, and
 * lowercasing char by char (`char::to_lowercase`: no final-sigma rule, which JS `toLowerCase` applies).
 *
 * @param {{clean_text?: boolean, handle_chinese_chars?: boolean, strip_accents?: boolean | null, lowercase?: boolean}} config
 * @returns {(text: string) => string}
 */
export function bertNormalizer(config) {
  const clean = config.clean_text ?? true;
  const chinese = config.handle_chinese_chars ?? true;
  const lowercase = config.lowercase ?? true;
  const strip = config.strip_accents ?? lowercase;
  return (text) => {
    let out = text;
    if (clean) {
      out = "";
      for (const c of text) {
        const cp = /** @type {number} */ (c.codePointAt(0));
        if (c === "\t" || c === "\n" || c === "\r") out += " ";
        else if (cp === 0 || cp === 0xfffd || OTHER.test(c)) continue;
        else out += WHITE_SPACE.test(c) ? " " : c;
      }
    }
    if (chinese) {
      let spaced = "";
      for (const c of out) {
        const cp = /** @type {number} */ (c.codePointAt(0));
        spaced += CHINESE.some(([low, high]) => cp >= low && cp <= high) ? ` ${c} ` : c;
      }
      out = spaced;
    }
    if (strip) out = out.normalize("NFD").replace(/\p{Mn}/gu, "");
    if (lowercase) out = lowercaseChars(out);
    return out;
  };
}

/** GPT-2's ByteLevel split with Rust's (Oniguruma's) `\s`, White_Space: the library's regex uses JS `\s`. */
export const BYTE_LEVEL_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\p{White_Space}\p{L}\p{N}]+|\p{White_Space}+(?!\P{White_Space})|\p{White_Space}+/gu;

/** BertPreTokenizer's words (split on White_Space, punctuation alone), without the library's JS `\s` and `trim()`. */
export const BERT_PRE_PATTERN = /[^\p{White_Space}\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]+|[\p{P}\u0021-\u002F\u003A-\u0040\u005B-\u0060\u007B-\u007E]/gu;

/** Rust `regex`'s Unicode `\w`: Alphabetic, marks, decimal digits, connector punctuation, Join_Control. */
const WORD = String.raw`\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}`;
/** The Whitespace pre-tokenizer's `\w+|[^\w\s]+` with Unicode classes (the library's regex is ASCII-only). */
export const WHITESPACE_PATTERN = new RegExp(String.raw`[${WORD}]+|[^${WORD}\p{White_Space}]+`, "gu");
/** WhitespaceSplit splits on `char::is_whitespace` (White_Space, with U+0085); the library on JS `\S+`. */
export const WHITE_SPACE_RUNS = /\p{White_Space}+/u;

/**
 * Rust's `NormalizedString::lowercase`: `char::to_lowercase` char by char (JS `toLowerCase` on a string applies
 * the final-sigma rule).
 *
 * @param {string} text
 * @returns {string}
 */
export function lowercaseChars(text) {
  let out = "";
  for (const c of text) out += c.toLowerCase();
  return out;
}
