import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Shared pieces of the benchmark scenarios: ports, `wrangler dev`, statistics, results. */

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running `wrangler dev`. */
export type Wrangler = { url: string; stop(): Promise<void> };

/**
 * Starts the Worker with `wrangler dev` on a free port. The rate limits of
 * wrangler.toml are raised in a temporary copy of the config: benchmarks measure
 * latency, and hundreds of invoices a minute from one address is what they do.
 */
export async function startWrangler(vars: Record<string, string> = {}): Promise<Wrangler> {
  const port = await freePort();
  const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8").replace(
    /limit = \d+/g,
    "limit = 1000000",
  );
  const configPath = join(ROOT, ".wrangler", "bench.wrangler.toml");
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileSync(
    configPath,
    config.replace('main = "src/worker/index.ts"', `main = "${join(ROOT, "src/worker/index.ts")}"`),
  );
  const args = [
    "wrangler",
    "dev",
    "--config",
    configPath,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--log-level",
    "error",
  ];
  for (const [key, value] of Object.entries({
    ALLOW_INSECURE_RELAYS: "true",
    LN402_ENV: "development",
    ...vars,
  })) {
    args.push("--var", `${key}:${value}`);
  }
  const child: ChildProcess = spawn("npx", args, {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("wrangler dev did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    url,
    async stop() {
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
    },
  };
}

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
