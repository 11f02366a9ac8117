import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Shared pieces of the benchmark scenarios: ports, statistics, results. */

export { freePort, startWrangler, type Wrangler } from "../devnet/wrangler.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Percentile (nearest-rank) of a sample, in its unit. */
export function percentile(sample: number[], p: number): number {
  const sorted = [...sample].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

/** Times `fn` once, in ms. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Writes a result file under bench/results/ and returns its path. */
export function writeResult(name: string, result: unknown): string {
  const dir = join(ROOT, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  return path;
}

/** Prints rows as an aligned table. */
export function printTable(rows: Array<Record<string, string | number>>): void {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  const cell = (value: string | number) => (typeof value === "number" ? value.toFixed(2) : value);
  const widths = columns.map((c) =>
    Math.max(c.length, ...rows.map((r) => cell(r[c] ?? "").length)),
  );
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i] ?? 0)).join("  ");
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c] ?? ""))));
}

/** A registered merchant's id and API key. */
export type BenchMerchant = { merchantId: string; apiKey: string };

/** Registers `nwcUrl` with the ln402 at `url` (as a user would with curl). */
export async function registerMerchant(url: string, nwcUrl: string): Promise<BenchMerchant> {
  const res = await fetch(`${url}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ nwcUrl }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return (await res.json()) as BenchMerchant;
}

/** Sets the merchant's gateway routes (`PUT /merchants/:id/routes`). */
export async function putRoutes(url: string, merchant: BenchMerchant, routes: unknown[]) {
  const res = await fetch(`${url}/merchants/${merchant.merchantId}/routes`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${merchant.apiKey}` },
    body: JSON.stringify({ routes }),
  });
  if (res.status !== 200) throw new Error(`routes: ${res.status} ${await res.text()}`);
}
