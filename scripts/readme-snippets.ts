/**
 * The TypeScript examples of the README and docs/*.md, for the two checks that keep them
 * honest: `scripts/check-readme.ts` type-checks every one strictly, and
 * `test/node/readme-examples.test.ts` runs the named ones against the devnet.
 *
 * An example is named by an HTML comment on the line before its fence, invisible when
 * the Markdown is rendered: `<!-- example: x402-lnbtc-server -->`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export type Snippet = {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** The heading the block sits under. */
  section: string;
  /** The line of the block's first code line (1-based). */
  line: number;
  /** The name given by `<!-- example: … -->`, if any. */
  name?: string;
  code: string;
};

/** The ```ts blocks of one Markdown file. */
export function snippetsOf(path: string): Snippet[] {
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
    const marker = /^<!-- example: ([a-z0-9-]+) -->$/.exec(lines[i - 1] ?? "");
    found.push({
      file: relative(ROOT, path),
      section,
      line: start + 1,
      ...(marker?.[1] ? { name: marker[1] } : {}),
      code: lines.slice(start, end).join("\n"),
    });
    i = end;
  }
  return found;
}

/** Every example: README.md first, then docs/*.md. */
export function allSnippets(): Snippet[] {
  const docs = join(ROOT, "docs");
  return [
    join(ROOT, "README.md"),
    ...readdirSync(docs)
      .filter((name) => name.endsWith(".md"))
      .sort()
      .map((name) => join(docs, name)),
  ].flatMap(snippetsOf);
}

/**
 * The package's entry points (`ln402/x402`, …) mapped to their TypeScript sources, from
 * package.json's `exports` (`./dist/x402/index.js` is built from `src/x402/index.ts`), so
 * examples run and type-check against the code in this checkout without a build.
 */
export function packageEntries(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
    name: string;
    exports: Record<string, string | { import?: string }>;
  };
  const entries: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const built = typeof target === "string" ? target : target.import;
    if (!built?.startsWith("./dist/") || !built.endsWith(".js")) continue;
    const source = join(ROOT, "src", built.slice("./dist/".length).replace(/\.js$/, ".ts"));
    entries[`${pkg.name}${subpath.slice(1)}`] = source;
  }
  return entries;
}

/** `packageEntries()` as file URLs, for a module resolve hook. */
export function packageEntryUrls(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(packageEntries()).map(([specifier, path]) => [
      specifier,
      pathToFileURL(path).href,
    ]),
  );
}
