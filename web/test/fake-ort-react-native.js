/**
 * A stand-in for onnxruntime-react-native in Node (no phone here): the same onnxruntime-common API, running on
 * onnxruntime-node, that says it is the React Native package and records what the library asks of it.
 */
import * as ortNode from "onnxruntime-node";

/** What the library asked for; also on globalThis, for a copy of this module bundled into an app. */
export const calls = [];
globalThis.m2vOrtStandInCalls = calls;

export const env = { versions: { common: ortNode.env.versions.common, "react-native": ortNode.env.versions.common } };

export const Tensor = ortNode.Tensor;

export const InferenceSession = {
  async create(model, options) {
    if (!(model instanceof Uint8Array)) throw new TypeError("the stand-in takes the model as a Uint8Array");
    calls.push({ call: "create", bytes: model.byteLength, options });
    const session = await ortNode.InferenceSession.create(model, options);
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      async run(feeds) {
        calls.push({ call: "run", inputs: Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, [v.type, ...v.dims]])) });
        return session.run(feeds);
      },
      release: () => session.release(),
    };
  },
};
