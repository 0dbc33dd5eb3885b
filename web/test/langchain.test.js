/** `m2v-edge/langchain`: a LangChain.js `Embeddings` (tested against @langchain/core) giving Python's vectors. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { Embeddings } from "@langchain/core/embeddings";

import { M2VEdgeEmbeddings } from "../src/langchain.js";
import { StaticOnnxModel, cosine } from "../src/index.js";
import { fixture, golden, maxAbsDiff, trickyTexts } from "./helpers.js";

test("embedDocuments / embedQuery give Python's vectors as number arrays; the tutorial ranks first", async () => {
  const model = await StaticOnnxModel.load(fixture("potion-int8"));
  const embeddings = new M2VEdgeEmbeddings({ model, batchSize: 7, maxRetries: 0 });
  assert.ok(embeddings instanceof Embeddings);
  const texts = trickyTexts().slice(0, 20);
  const vectors = await embeddings.embedDocuments(texts);
  assert.equal(vectors.length, texts.length);
  assert.ok(Array.isArray(vectors[0]) && typeof vectors[0][0] === "number");
  const gold = golden("potion-int8");
  vectors.forEach((v, i) => assert.ok(maxAbsDiff(v, gold.vectors[i]) <= 1e-5, `text ${i}`));
  const query = await embeddings.embedQuery("How do I train a neural network?");
  assert.equal(query.length, 256);
  const docs = ["Neural networks in biology", "Neural network training tutorial and guide", "Machine learning frameworks"];
  const scores = (await embeddings.embedDocuments(docs)).map((v) => cosine(query, v));
  assert.equal(scores.indexOf(Math.max(...scores)), 1);
  assert.deepEqual(await embeddings.embedDocuments([]), []);
  await assert.rejects(embeddings.embedQuery(42), /query must be a string, got number/);
  await model.dispose();
});

test("M2VEdgeEmbeddings without a loaded model says how to get one", () => {
  assert.throws(() => new M2VEdgeEmbeddings({}), /needs \{ model \}: a StaticOnnxModel from `await StaticOnnxModel\.load\(folder\)`/);
  assert.throws(() => new M2VEdgeEmbeddings({ model: "potion" }), /needs \{ model \}/);
});
