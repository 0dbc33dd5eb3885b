// ESLint flat config: the recommended rules for every JavaScript file of the package (browser and Node code), and
// for the web bench in src/m2v_edge/bench/web/ (outside this folder: `npm run lint` runs it from the repo root).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".fixtures/", "test-results/", "types/", "examples/*/node_modules/", "examples/*/dist/", "examples/*/out/", "examples/*/.next/"] },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs", "**/*.jsx"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      parserOptions: { ecmaFeatures: { jsx: true } }, // the Next.js example's components
      globals: { ...globals.browser, ...globals.node },
    },
  },
];
