/**
 * An app whose exports need ONNX Runtime (float exports, `model.ort`): `m2v-edge/ort` makes onnxruntime-web's
 * plain WASM build the default backend; vite emits its wasm. Here `engine: "onnxruntime"` runs the int8 example
 * model on it.
 */
import { StaticOnnxModel } from "m2v-edge/ort";

const QUERY = "How do I train a neural network?";
const DOCUMENTS = ["Neural networks in biology", "Machine learning frameworks", "Neural network training tutorial and guide"];

async function main() {
  const model = await StaticOnnxModel.load(new URL("../model/", location.href).href, { engine: "onnxruntime" });
  const hits = await model.search(QUERY, DOCUMENTS);
  await model.dispose();
  document.getElementById("results").replaceChildren(
    ...hits.map((hit) => Object.assign(document.createElement("li"), { textContent: `${hit.score.toFixed(3)} ${hit.document}` })),
  );
  return { hits: hits.map(({ document, score }) => ({ document, score })), info: model.info };
}

window.exampleResult = main();
