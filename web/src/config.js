/**
 * The exported folder's config.json (docs/format.md): read and checked like Python's `read_config`.
 */

import { FORMAT_VERSION, REQUIRED_KEYS } from "./contract.js";
import { checkFormatVersion, validateConfig } from "./validate.js";

export { FORMAT_VERSION };

/**
 * Parse and validate config.json.
 *
 * @param {string | object} raw the file's text or an already parsed object.
 * @param {string} where a name for error messages (path or URL).
 * @returns {object} the config.
 */
export function parseConfig(raw, where) {
  let config = raw;
  if (typeof raw === "string") {
    try {
      config = JSON.parse(raw);
    } catch (err) {
      throw new Error(`${where}: not valid JSON (${err.message}); re-export the model`, { cause: err });
    }
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    throw new Error(`${where}: expected a JSON object; re-export the model`);
  }
  // The version first: a newer folder may have renamed keys, and its remedy is "upgrade", not "re-export".
  checkFormatVersion(config, where);
  const missing = REQUIRED_KEYS.filter((key) => !(key in config));
  if (missing.length > 0) {
    throw new Error(`${where}: missing keys ${JSON.stringify(missing)}; re-export the model with this version`);
  }
  return validateConfig(config, where);
}
