/**
 * A Web Worker look-alike on `worker_threads`, so that Node runs the tokenizer pool (tokenizer-pool.js) and its
 * worker script (tokenize-worker.js) unchanged: `new WebWorker(url)` posts and receives `{ data }` events, and
 * inside the thread `self.onmessage` / `self.postMessage` are those of a Web Worker.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

export class WebWorker {
  /** @param {URL} url the worker module. */
  constructor(url) {
    this.onmessage = null;
    this.onerror = null;
    this.thread = new Worker(new URL(import.meta.url), { workerData: url.href });
    this.thread.on("message", (data) => this.onmessage?.({ data }));
    this.thread.on("error", (err) => this.onerror?.({ message: err.message, preventDefault() {} }));
  }

  postMessage(message, transfer) {
    this.thread.postMessage(message, transfer);
  }

  terminate() {
    this.thread.terminate();
  }
}

if (!isMainThread && typeof workerData === "string") {
  globalThis.self = {
    postMessage: (message, transfer) => parentPort.postMessage(message, transfer),
    set onmessage(handler) {
      parentPort.on("message", (data) => handler({ data }));
    },
  };
  await import(workerData);
}
