// ESLint flat config: the recommended rules for every JavaScript file of the package (browser and Node code).
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", ".fixtures/", "test-results/", "types/", "examples/*/node_modules/", "examples/*/dist/"] },
  js.configs.recommended,
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: {
      ecmaVersion: "latest",
      sourceType: "module",
      globals: { ...globals.browser, ...globals.node },
    },
  },
];
