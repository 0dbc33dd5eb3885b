/** The app's one job: load the model served at ../model/ and rank the documents for the query. */
import { StaticOnnxModel } from "m2v-edge";

export const QUERY = "How do I train a neural network?";
export const DOCUMENTS = ["Neural networks in biology", "Machine learning frameworks", "Neural network training tutorial and guide"];

/**
 * @param {string} modelUrl the exported folder's URL.
 * @returns {Promise<{hits: {document: string, score: number}[], info: object, progress: object[]}>}
 */
export async function rankExample(modelUrl) {
  const progress = [];
  const model = await StaticOnnxModel.load(modelUrl, { cache: true, progress: (event) => progress.push(event) });
  const hits = await model.search(QUERY, DOCUMENTS);
  await model.dispose();
  return { hits: hits.map(({ document, score }) => ({ document, score })), info: model.info, progress };
}
