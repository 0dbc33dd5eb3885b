/** A static export served under /app/ (web/test/examples.test.js serves out/ there, the model at /model/). */
export default { output: "export", basePath: "/app", trailingSlash: true };
