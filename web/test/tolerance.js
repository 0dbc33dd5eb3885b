/**
 * How far a JavaScript vector may be from Python's golden one (Node and the browser harness import this).
 *
 * Both runtimes sum a text's n token rows in float32 but in different orders (the kernel row after row,
 * onnxruntime's MLAS in blocks), and each order may be off by up to about n·u of the entries' size (u = 2^-24,
 * float32's unit roundoff; the bound of recursive summation), so the two may differ by 2·n·u: 512 copies of one
 * token reach 1.3e-6 on potion (unit vectors) and 1.3e-5 on the unnormalized Unigram fixture. Floor: 1e-6.
 * Normalizing adds the norm's own sum of `dim` squares, which onnxruntime gets 1.7e-6 (relative) wrong on the
 * Qwen family's rows (one dominant column; docs/format.md): its test (qwen-m2v.test.js) bounds it at 1e-5.
 * Vectors of one runtime are compared bit for bit elsewhere (determinism.test.js); this is only across runtimes.
 */
export const UNIT_ROUNDOFF = 2 ** -24;

/**
 * @param {ArrayLike<number>} expected Python's vector
 * @param {number} tokens how many token rows the text sums (its golden ids' length)
 */
export function parityTolerance(expected, tokens) {
  return Math.max(1e-6, 2 * tokens * UNIT_ROUNDOFF) * Math.max(1, ...Array.from(expected, Math.abs));
}
