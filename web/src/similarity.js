/** Cosine similarity and ranking, as in Python's `m2v_edge.runtime.similarity`. */
import { COSINE_NORM_FLOOR } from "./contract.js";
import { checkFiniteQuery, checkTopK } from "./validate.js";

/**
 * Cosine similarity of two vectors (0 when either is the zero vector).
 *
 * @param {ArrayLike<number>} a
 * @param {ArrayLike<number>} b
 * @returns {number}
 */
export function cosine(a, b) {
  if (a.length !== b.length) {
    throw new Error(`cosine: vectors have different lengths (${a.length} and ${b.length})`);
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  // As Python's normalize_rows: each norm floored at the contract's COSINE_NORM_FLOOR (a zero vector scores 0).
  return dot / (Math.max(Math.sqrt(na), COSINE_NORM_FLOOR) * Math.max(Math.sqrt(nb), COSINE_NORM_FLOOR));
}

/**
 * Rank `vectors` by cosine to `query`, best first (ties keep document order).
 *
 * @param {ArrayLike<number>} query
 * @param {ArrayLike<number>[]} vectors
 * @param {string[]} documents
 * @param {number | null} [topK] keep the best `topK` (all when null).
 * @returns {{index: number, score: number, document: string}[]}
 */
export function rank(query, vectors, documents, topK = null) {
  checkTopK(topK);
  checkFiniteQuery(query, "query");
  const hits = vectors.map((vector, index) => ({ index, score: cosine(query, vector), document: documents[index] }));
  hits.sort((x, y) => y.score - x.score || x.index - y.index);
  return topK == null ? hits : hits.slice(0, topK);
}
