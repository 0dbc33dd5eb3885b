// Type-checked with `tsc --strict --noEmit`: the package's declarations (generated from its JSDoc) describe the API.
import { StaticOnnxModel, cosine, rank, type LoadProgress } from "m2v-edge";
import { StaticOnnxModel as CoreModel } from "m2v-edge/core";

export async function demo(folder: string): Promise<string> {
  const events: LoadProgress[] = [];
  const model: StaticOnnxModel = await StaticOnnxModel.load(folder, {
    cache: true,
    threads: 1,
    progress: (event) => events.push(event),
  });
  const vector = await model.encode("How do I train a neural network?");
  const matrix = await model.encodeMatrix(["a", "b"], { batchSize: 64, maxLength: null });
  const rows: number = matrix.rows;
  const data: Float32Array = matrix.data;
  const hits = await model.search("query", ["one", "two"], 1);
  const best: string = hits[0].document;
  const score: number = hits[0].score + cosine(data.subarray(0, model.dim), data.subarray(model.dim));
  const ranked = rank(data.subarray(0, model.dim), [data.subarray(model.dim)], ["two"]);
  const loaded: number = events.length > 0 ? events[events.length - 1].loaded : 0;
  const backend: string = model.info.backend;
  await model.dispose();
  return `${backend} ${rows} ${best} ${score} ${ranked.length} ${loaded} ${vector.length}`;
}

export async function fromAppBundle(ort: unknown, read: (path: string) => Promise<Uint8Array>): Promise<number> {
  const model = await CoreModel.load("models/potion-int8", { ort, loadFile: (path) => read(path) });
  return model.dim;
}
