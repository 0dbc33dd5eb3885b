/**
 * One validation of an exported folder at load, the same checks as Python's `m2v_edge.validate`: config types
 * and ranges (format_version first), int64 `input_ids`/`attention_mask` inputs, an `embeddings` output whose
 * width is `dim`, and a table row for every id the tokenizer can produce. A mismatch is an Error naming the
 * file and the remedy, never a vector.
 */
import {
  ATTENTION_MASK,
  CONFIG_RULES,
  CONFIG_RULE_TEXT,
  DTYPES,
  FORMAT_VERSION,
  INPUT_IDS,
  MESSAGES,
  OUTPUT,
  REMEDY_REEXPORT,
} from "./contract.js";
import { runOptions } from "./backend.js";

const show = (value) => (value === undefined ? "undefined" : JSON.stringify(value));
const isPositiveInt = (value) => Number.isInteger(value) && value >= 1;

/**
 * A contract message (contract.js `MESSAGES`, generated from Python's contract.py) with its `{placeholders}` filled.
 *
 * @param {string} key
 * @param {Record<string, unknown>} values strings as they are, anything else as JSON.
 * @returns {string}
 */
export function message(key, values) {
  return fill(MESSAGES[key], values);
}

/** A template's `{placeholders}` filled: strings as they are, anything else as JSON. */
export const fill = (template, values) =>
  template.replace(/\{(\w+)\}/g, (_, name) => (typeof values[name] === "string" ? values[name] : show(values[name])));

/** Whether `value` follows a contract.js `CONFIG_RULES` rule (ids against `vocab_size`), as Python's `_follows`. */
function follows(rule, value, config) {
  if (rule.endsWith("_or_null") && value === null) return true;
  const base = rule.replace(/_or_null$/, "");
  if (base === "positive_int") return isPositiveInt(value);
  if (base === "token_id") return Number.isInteger(value) && value >= 0 && value < config.vocab_size;
  if (base === "bool") return typeof value === "boolean";
  if (base === "dtype") return DTYPES.includes(value);
  return value === OUTPUT;
}

/**
 * Check `format_version` (an integer, not newer than this runtime): run before any other key is looked at.
 *
 * @param {object} config the parsed config.json (an object).
 * @param {string} where the file, for messages.
 */
export function checkFormatVersion(config, where) {
  const version = config.format_version;
  if (!isPositiveInt(version)) throw new Error(message("format_version", { where, got: show(version) }));
  if (version > FORMAT_VERSION) throw new Error(message("newer", { where, version, newest: FORMAT_VERSION }));
}

/**
 * Check every config key's type and range (the keys are known to be present): contract.js `CONFIG_RULES`.
 *
 * @param {object} config
 * @param {string} where
 * @returns {object} the config.
 */
export function validateConfig(config, where) {
  for (const [key, rule] of Object.entries(CONFIG_RULES)) {
    if (!(key in config) || follows(rule, config[key], config)) continue;
    const expected = fill(CONFIG_RULE_TEXT[rule], { last: config.vocab_size - 1, dtypes: DTYPES, output: OUTPUT });
    throw new Error(message("bad_key", { where, key, expected, got: show(config[key]) }));
  }
  return config;
}

/**
 * One more than the largest id a tokenizer.json can produce (vocabulary and added tokens).
 *
 * @param {object} tokenizerJson the parsed tokenizer.json.
 * @param {number | null} [vocabIds] the same for its vocabulary alone, when already read with these checks
 *   (the tokenizer's lean build, fast-bpe.js): only the added tokens are read then.
 * @returns {number}
 */
export function tokenizerIdCount(tokenizerJson, vocabIds = null) {
  const vocab = tokenizerJson?.model?.vocab;
  let most = -1;
  const check = (id, token) => {
    if (!Number.isInteger(id) || id < 0) {
      throw new Error(`tokenizer.json gives ${JSON.stringify(token)} the id ${JSON.stringify(id)}, not a non-negative integer; ${REMEDY_REEXPORT}`);
    }
    if (id > most) most = id;
  };
  if (vocabIds !== null) most = vocabIds - 1;
  else if (Array.isArray(vocab)) most = vocab.length - 1; // Unigram: [[token, score], ...]
  else if (vocab && typeof vocab === "object") {
    // for...in, not Object.entries: no [token, id] array per entry (Qwen's 151,934 entries: ~40 ms, not ~130)
    for (const token in vocab) if (Object.hasOwn(vocab, token)) check(vocab[token], token);
  }
  for (const token of tokenizerJson?.added_tokens ?? []) check(token?.id, token?.content);
  return most + 1;
}

/**
 * Check the tokenizer and the graph against the config: run once on a probe row [pad, vocab_size - 1].
 *
 * @param {{config: object, tokenizerJson: object, vocabIds?: number | null, session: any, ort: any, where: string}} parts `ort` is the
 *   onnxruntime module the session came from (for its Tensor class).
 */
export async function validateExport({ config, tokenizerJson, vocabIds = null, session, ort, where }) {
  const vocab = config.vocab_size;
  const ids = tokenizerIdCount(tokenizerJson, vocabIds);
  if (ids > vocab) throw new Error(message("tokenizer_ids", { where, most: ids - 1, rows: vocab }));
  const inputs = session.inputNames;
  if (!inputs.includes(INPUT_IDS) || inputs.some((name) => name !== INPUT_IDS && name !== ATTENTION_MASK)) {
    throw new Error(message("graph_inputs", { where, inputs, ids: show(INPUT_IDS), mask: show(ATTENTION_MASK) }));
  }
  const wrong = (session.inputMetadata ?? []).filter((meta) => meta.isTensor && meta.type !== "int64");
  if (wrong.length > 0) {
    throw new Error(message("graph_input_types", { where, got: Object.fromEntries(wrong.map((meta) => [meta.name, meta.type])) }));
  }
  if (!session.outputNames.includes(OUTPUT)) {
    throw new Error(message("graph_output", { where, output: show(OUTPUT), outputs: session.outputNames }));
  }
  const probe = BigInt64Array.from([BigInt(config.pad_token_id), BigInt(vocab - 1)]);
  const feeds = { [INPUT_IDS]: new ort.Tensor("int64", probe, [1, 2]) };
  if (inputs.includes(ATTENTION_MASK)) feeds[ATTENTION_MASK] = new ort.Tensor("int64", BigInt64Array.from([1n, 1n]), [1, 2]);
  let output;
  try {
    output = (await session.run(feeds, [OUTPUT], runOptions()))[OUTPUT];
  } catch (err) {
    const why = (String(err?.message ?? err).split("\n")[0] || "unknown error").slice(0, 200);
    throw new Error(message("graph_fails", { where, last: vocab - 1, why }), { cause: err });
  }
  if (output.dims.length !== 2 || output.dims[0] !== 1 || output.dims[1] !== config.dim) {
    throw new Error(message("graph_width", { where, shape: `[${output.dims.slice(1)}]`, dim: config.dim }));
  }
  if (!output.data.every(Number.isFinite)) throw new Error(message("graph_nan", { where }));
}

/**
 * Refuse a string with a lone surrogate (not valid Unicode), like Python's `check_unicode`.
 *
 * @param {string} text
 * @param {string} name for the message, e.g. "texts[2]".
 */
export function checkUnicode(text, name) {
  if (text.isWellFormed?.() ?? true) return;
  for (let i = 0, points = 0; i < text.length; i++, points++) {
    const code = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const hex = code.toString(16).toUpperCase().padStart(4, "0");
      throw new Error(
        `${name} holds a lone surrogate U+${hex} at position ${points}, not valid Unicode (undecodable bytes?); ` +
          "decode input as UTF-8 with errors='replace'",
      );
    }
  }
}

/**
 * `topK` must be a positive integer, or null/undefined for all documents (Python: `top_k`).
 *
 * @param {unknown} topK
 */
export function checkTopK(topK) {
  if (topK != null && (!Number.isInteger(topK) || topK < 1)) {
    throw new TypeError(`topK must be a positive integer or null, got ${show(topK)}`);
  }
}

/**
 * Refuse a query vector holding NaN or inf: every score would be NaN (Python: `check_query`).
 *
 * @param {ArrayLike<number>} query
 * @param {string} name for the message.
 */
export function checkFiniteQuery(query, name) {
  for (let i = 0; i < query.length; i++) {
    if (!Number.isFinite(query[i])) {
      throw new Error(`${name} holds ${query[i]} at position ${i}; a query vector must be finite numbers (encode the text again)`);
    }
  }
}

/**
 * `maxLength` must be a positive integer, null (no limit) or undefined (the model's); Python: `max_length`.
 *
 * @param {unknown} maxLength
 */
export function checkMaxLength(maxLength) {
  if (maxLength !== undefined && maxLength !== null && (!Number.isInteger(maxLength) || maxLength < 1)) {
    throw new TypeError(`maxLength must be a positive integer or null, got ${show(maxLength)}`);
  }
}

/**
 * Refuse a graph call whose output holds NaN or inf (a tampered table), like Python's `encode`.
 *
 * @param {Float32Array} data the `embeddings` output of one graph call.
 * @param {string} where the model, for the message.
 */
export function checkFinite(data, where) {
  // NaN and inf propagate through a sum; four sums break the dependency chain (3x faster in V8).
  let [a, b, c, d] = [0, 0, 0, 0];
  const end = data.length - (data.length % 4);
  for (let i = 0; i < end; i += 4) {
    a += data[i];
    b += data[i + 1];
    c += data[i + 2];
    d += data[i + 3];
  }
  for (let i = end; i < data.length; i++) a += data[i];
  if (!Number.isFinite(a + b + c + d) && !data.every(Number.isFinite)) {
    throw new Error(`${where}: the graph gave NaN or inf; the file is corrupt, re-export it`);
  }
}
