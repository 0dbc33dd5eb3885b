/**
 * React Native: m2v-edge on onnxruntime-react-native, the exported folder shipped inside the app bundle.
 * Metro resolves "m2v-edge" to its "react-native" entry (no onnxruntime-web, no Node modules).
 *
 * `readAsset(path)` is the app's way to read a bundled file as bytes, e.g. with react-native-fs:
 *   Android: RNFS.readFileAssets(path, "base64"); iOS: RNFS.readFile(`${RNFS.MainBundlePath}/${path}`, "base64"),
 *   then decode the base64 (e.g. `Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))`, or the base64-js package).
 */
import * as ort from "onnxruntime-react-native";
import { StaticOnnxModel } from "m2v-edge";

/**
 * Load the exported folder `folder` (e.g. "models/potion-int8") from the app bundle.
 *
 * @param {string} folder
 * @param {(path: string) => Promise<Uint8Array>} readAsset
 */
export function loadModel(folder, readAsset) {
  return StaticOnnxModel.load(folder, { ort, loadFile: (path) => readAsset(path) });
}

/** Rank documents for a query, best first. */
export async function search(model, query, documents) {
  const hits = await model.search(query, documents);
  return hits.map((hit) => ({ document: hit.document, score: hit.score }));
}
