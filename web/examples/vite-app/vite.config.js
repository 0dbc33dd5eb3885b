// Relative asset URLs (the app may be served under any path); module Workers (ES format) for worker.js.
export default {
  base: "./",
  worker: { format: "es" },
};
