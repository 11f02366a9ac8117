import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

/**
 * The system Chromium the browser suites drive (Debian's `chromium`; playwright-core
 * downloads no browser): `CHROMIUM_PATH`, or `chromium` / `chromium-browser` on PATH.
 * Suites skip with a message when it is absent, except in CI, where they fail.
 */
export function systemChromium(): string | null {
  if (process.env.CHROMIUM_PATH)
    return existsSync(process.env.CHROMIUM_PATH) ? process.env.CHROMIUM_PATH : null;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || null;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Whether a browser suite skips here (no Chromium, not CI); warns once when it does. */
export function skipWithoutChromium(suite: string): boolean {
  const skip = systemChromium() === null && !process.env.CI;
  if (skip)
    console.warn(
      `${suite} skipped: install Chromium (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  return skip;
}
