// Must NOT type-check (the test expects these errors): the declarations are precise, not `any`.
import { StaticOnnxModel } from "m2v-edge";

export async function wrong(): Promise<void> {
  await StaticOnnxModel.load(42);
  await StaticOnnxModel.load("/models/x/", { threads: "two" });
  const model = await StaticOnnxModel.load("/models/x/");
  await model.search(["not a string"], ["doc"]);
}
