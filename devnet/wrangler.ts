import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Runs the ln402 Worker under `wrangler dev` for scripts, end-to-end tests, the demo
 * and benchmarks: on 127.0.0.1, a free port, offline, with ws:// relays allowed.
 */

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

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
 * Starts the Worker with `wrangler dev` on a free port, from a copy of wrangler.toml
 * (under .wrangler/). `raiseRateLimits` lifts the rate limits in that copy: benchmarks
 * measure latency, and hundreds of invoices a minute from one address is what they do.
 */
export async function startWrangler(
  vars: Record<string, string> = {},
  options: { raiseRateLimits?: boolean } = {},
): Promise<Wrangler> {
  const port = await freePort();
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const config = options.raiseRateLimits ? toml.replace(/limit = \d+/g, "limit = 1000000") : toml;
  // One copy per instance: suites may run several at once.
  const configPath = join(ROOT, ".wrangler", `dev-${port}.wrangler.toml`);
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileSync(
    configPath,
    config.replace('main = "src/worker/index.ts"', `main = "${join(ROOT, "src/worker/index.ts")}"`),
  );
  const args = [
    "dev",
    "--config",
    configPath,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    // Its own inspector port too: the default is shared by every wrangler on the machine,
    // so two starting at once (parallel suites, a bench beside a test run) would collide.
    "--inspector-port",
    String(await freePort()),
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
  // Run wrangler's own entry on this Node (the project's Node 22), not through npx.
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), ...args],
    {
      cwd: ROOT,
      stdio: ["ignore", "ignore", "inherit"],
      detached: true,
      // Offline: no request.cf download from workers.cloudflare.com, no telemetry.
      env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
    },
  );
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
      rmSync(configPath, { force: true });
      if (child.pid !== undefined && child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        process.kill(-child.pid, "SIGTERM");
        await exited;
      }
    },
  };
}
