/**
 * `node scripts/check-readme.ts` (part of `npm run check`): every ```ts block in
 * README.md and docs/*.md is type-checked on its own, as a user would paste it into a
 * fresh file, under `strict`. Package imports (`ln402/client`, …) resolve to the sources.
 *
 * Sections listed in KNOWN_FAILING are reported but do not fail the check; one that
 * starts passing fails it, so the list only shrinks.
 */
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { allSnippets, packageEntries, ROOT } from "./readme-snippets.ts";

/** README sections whose snippets are known not to compile yet, and why. */
const KNOWN_FAILING: Record<string, string> = {};

const all = allSnippets();

// At the repository root, as if pasted into a new file there: node_modules, the sources
// and the README's relative imports (`./devnet/index.ts`) resolve as they would for a user.
const PREFIX = ".readme-snippet-";
const dir = ROOT;
const names = all.map((_, n) => `${PREFIX}${String(n + 1).padStart(2, "0")}.ts`);
const config = join(dir, `${PREFIX}tsconfig.json`);
try {
  all.forEach((snippet, n) => {
    writeFileSync(join(dir, names[n] ?? ""), `${snippet.code}\n`);
  });
  writeFileSync(
    config,
    JSON.stringify({
      compilerOptions: {
        target: "ES2023",
        lib: ["ES2023", "DOM"],
        module: "ESNext",
        moduleResolution: "Bundler",
        moduleDetection: "force",
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        allowImportingTsExtensions: true,
        paths: Object.fromEntries(
          Object.entries(packageEntries()).map(([name, path]) => [name, [path]]),
        ),
      },
      files: names,
    }),
  );
  const tsc = spawnSync(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", config, "--pretty", "false"],
    { encoding: "utf8" },
  );
  // Errors in the sources themselves (reached through a snippet's imports) are not the snippets'.
  const errors = new Map<number, string[]>();
  for (const line of tsc.stdout.split("\n")) {
    const m = /readme-snippet-(\d+)\.ts\((\d+),\d+\): (error .*)$/.exec(line);
    if (!m) continue;
    const n = Number(m[1]) - 1;
    const snippet = all[n];
    if (!snippet) continue;
    errors.set(n, [
      ...(errors.get(n) ?? []),
      `${snippet.file}:${snippet.line + Number(m[2]) - 1}: ${m[3]}`,
    ]);
  }
  let failed = false;
  const excusedSeen = new Set<string>();
  for (const [n, messages] of errors) {
    const snippet = all[n];
    if (!snippet) continue;
    const why = KNOWN_FAILING[snippet.section];
    if (why !== undefined) {
      excusedSeen.add(snippet.section);
      process.stdout.write(
        `known failing (${snippet.section}: ${why})\n  ${messages.join("\n  ")}\n`,
      );
      continue;
    }
    failed = true;
    process.stderr.write(
      `README snippet in "${snippet.section}" does not compile:\n  ${messages.join("\n  ")}\n`,
    );
  }
  for (const section of Object.keys(KNOWN_FAILING)) {
    if (excusedSeen.has(section)) continue;
    failed = true;
    process.stderr.write(
      `"${section}" is in KNOWN_FAILING but its snippets now compile (or it is gone): remove it\n`,
    );
  }
  process.stdout.write(`${all.length} TypeScript snippets checked, ${errors.size} with errors\n`);
  if (failed) process.exitCode = 1;
} finally {
  for (const name of [...names, `${PREFIX}tsconfig.json`]) rmSync(join(dir, name), { force: true });
}
