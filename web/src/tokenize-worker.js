/**
 * A Web Worker of the tokenizer pool (tokenizer-pool.js): builds a `TextTokenizer` from the tokenizer.json text
 * and config it is sent, then answers each batch of texts with their ids as one flat Int32Array plus the
 * per-text lengths (both transferred, not copied). Same rules, so the same ids, as the page's tokenizer.
 */
import { TextTokenizer } from "./tokenize.js";

/** @type {TextTokenizer | null} */
let tokenizer = null;

self.onmessage = ({ data }) => {
  try {
    if (data.type === "init") {
      const text = typeof data.tokenizer === "string" ? data.tokenizer : new TextDecoder("utf-8").decode(data.tokenizer);
      tokenizer = new TextTokenizer(JSON.parse(text), data.config);
      self.postMessage({ id: data.id });
      return;
    }
    if (tokenizer === null) throw new Error("tokenizer worker used before init");
    const lengths = new Int32Array(data.texts.length);
    const parts = [];
    let total = 0;
    data.texts.forEach((text, i) => {
      const ids = tokenizer.encodeIds(text, data.maxLength);
      lengths[i] = ids.length;
      parts.push(ids);
      total += ids.length;
    });
    const flat = new Int32Array(total);
    let offset = 0;
    for (const ids of parts) {
      flat.set(ids, offset);
      offset += ids.length;
    }
    self.postMessage({ id: data.id, flat, lengths }, [flat.buffer, lengths.buffer]);
  } catch (err) {
    self.postMessage({ id: data.id, error: err instanceof Error ? err.message : String(err) });
  }
};
