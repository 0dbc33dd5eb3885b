/**
 * LangChain.js adapter (`m2v-edge/langchain`): an `Embeddings` for vector stores and retrievers, on a model loaded
 * with `StaticOnnxModel.load` (any backend). `@langchain/core` is an optional peer dependency.
 *
 *   import { StaticOnnxModel } from "m2v-edge";
 *   import { M2VEdgeEmbeddings } from "m2v-edge/langchain";
 *   const embeddings = new M2VEdgeEmbeddings({ model: await StaticOnnxModel.load("/models/potion-int8/") });
 *   const vectors = await embeddings.embedDocuments(["first text", "second text"]);
 */
import { Embeddings } from "@langchain/core/embeddings";

import { StaticOnnxModel } from "./model.js";

export class M2VEdgeEmbeddings extends Embeddings {
  /**
   * @param {{model: StaticOnnxModel, batchSize?: number, maxConcurrency?: number, maxRetries?: number}} params
   *   `model`: a loaded `StaticOnnxModel`; `batchSize`: texts per graph call (default 128).
   */
  constructor(params) {
    const { model, batchSize = 128, ...rest } = params ?? {};
    super(rest);
    if (!(model instanceof StaticOnnxModel)) {
      throw new TypeError("M2VEdgeEmbeddings needs { model }: a StaticOnnxModel from `await StaticOnnxModel.load(folder)`");
    }
    /** @type {StaticOnnxModel} */
    this.model = model;
    this.batchSize = batchSize;
  }

  /**
   * One vector per document (plain number arrays, as LangChain expects).
   *
   * @param {string[]} documents
   * @returns {Promise<number[][]>}
   */
  async embedDocuments(documents) {
    const { data, rows, dim } = await this.caller.call(() => this.model.encodeMatrix(documents, { batchSize: this.batchSize }));
    const out = [];
    for (let r = 0; r < rows; r++) out.push(Array.from(data.subarray(r * dim, (r + 1) * dim)));
    return out;
  }

  /**
   * The query's vector (static models embed queries and documents the same way).
   *
   * @param {string} query
   * @returns {Promise<number[]>}
   */
  async embedQuery(query) {
    if (typeof query !== "string") throw new TypeError(`query must be a string, got ${query === null ? "null" : typeof query}`);
    const [vector] = await this.embedDocuments([query]);
    return vector;
  }
}
