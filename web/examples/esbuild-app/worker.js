/** A module Worker: the same search off the main thread. */
import { rankExample } from "./search.js";

self.onmessage = async (event) => {
  try {
    self.postMessage({ ok: true, ...(await rankExample(event.data.modelUrl)) });
  } catch (err) {
    self.postMessage({ ok: false, error: err.message });
  }
};
