/** Headless Debian Chromium driven by playwright-core (no downloaded browser builds), for tests and the bench. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = JSON.parse(readFileSync(new URL("../../tests/data/chromium.json", import.meta.url), "utf8")).args;

/**
 * Launch Chromium with a fresh profile.
 *
 * @returns {Promise<{context: import("playwright-core").BrowserContext, close: () => Promise<void>}>}
 */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM}: no Chromium; install it with \`apt-get install -y chromium\` or set CHROMIUM_PATH`);
  }
  const profile = mkdtempSync(join(tmpdir(), "m2v-edge-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 720 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new page that reports page errors and failed requests on the console of the test process. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
  page.problems = problems;
  await page.goto(url);
  return page;
}
