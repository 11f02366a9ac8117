/**
 * `node scripts/check-readme.ts` (part of `npm run check`): every ```ts block in
 * README.md and docs/*.md is type-checked on its own, as a user would paste it into a
 * fresh file, under `strict`. Package imports (`ln402/client`, …) resolve to the sources.
 *
 * Sections listed in KNOWN_FAILING are reported but do not fail the check; one that
 * starts passing fails it, so the list only shrinks.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** README sections whose snippets are known not to compile yet, and why. */
const KNOWN_FAILING: Record<string, string> = {};

type Snippet = { file: string; section: string; line: number; code: string };

/** The ```ts blocks of a Markdown file, each with the heading it sits under. */
function snippets(path: string): Snippet[] {
  const found: Snippet[] = [];
  const lines = readFileSync(path, "utf8").split("\n");
  let section = "";
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const heading = /^#{1,6} (.+)$/.exec(line);
    if (heading) section = heading[1] ?? "";
    if (!/^```(ts|typescript)\s*$/.test(line)) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end] ?? "")) end++;
    found.push({
      file: relative(ROOT, path),
      section,
      line: start + 1,
      code: lines.slice(start, end).join("\n"),
    });
    i = end;
  }
  return found;
}

const docs = join(ROOT, "docs");
const sources = [
  join(ROOT, "README.md"),
  ...readdirSync(docs)
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(docs, name)),
];
const all = sources.flatMap(snippets);

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
  const entry = (path: string) => [join(ROOT, path)];
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
        paths: {
          "ln402/x402": entry("src/x402/index.ts"),
          "ln402/client": entry("src/client/index.ts"),
          "ln402/mpp": entry("src/mpp/index.ts"),
          "ln402/mpp/mppx": entry("src/mpp/mppx.ts"),
          "ln402/providers": entry("src/providers/index.ts"),
        },
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
