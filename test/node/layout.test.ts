import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const SKIP = new Set(["node_modules", ".git", "dist", ".wrangler"]);

/** Where vitest.config.ts's two projects look for test files. */
const RUN_BY = [
  (p: string) => p.startsWith("src/worker/") && "workers",
  (p: string) => p.startsWith("test/workers/") && "workers",
  (p: string) => p.startsWith("src/") && !p.startsWith("src/worker/") && "node",
  (p: string) => p.startsWith("devnet/") && "node",
  (p: string) => p.startsWith("test/node/") && "node",
];

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith(".test.ts") ? [relative(ROOT, path)] : [];
  });
}

describe("test layout", () => {
  it("error: no test file sits where no vitest project would run it", () => {
    const files = testFiles(ROOT);
    expect(files.length).toBeGreaterThan(20);
    const orphans = files.filter((file) => !RUN_BY.some((runs) => runs(file)));
    expect(orphans).toEqual([]);
  });
});
