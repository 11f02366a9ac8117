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

/**
 * Every `wrangler dev` this process started and has not stopped. They run in their own
 * process group (so a stop ends the runtime too), which also means they would outlive
 * this process: its exit ends them, whatever the exit (an uncaught error, a broken pipe,
 * `process.exit` from a signal handler).
 */
const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
});

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
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const config = options.raiseRateLimits ? toml.replace(/limit = \d+/g, "limit = 1000000") : toml;
  // One copy per instance: suites may run several at once.
  const configPath = join(ROOT, ".wrangler", `dev-${crypto.randomUUID()}.wrangler.toml`);
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
    // Port 0: the runtime binds a free port itself and wrangler names it ("Ready on …").
    // A port picked here and handed over would be free only when picked: another process
    // (a parallel suite, a bench beside a test run) could bind it first.
    "--port",
    "0",
    // Its own inspector port too: the default is shared by every wrangler on the machine.
    "--inspector-port",
    "0",
    // Info, for the Ready line on stdout (read below, the rest discarded); warnings and
    // errors still reach stderr (see passStderr).
    "--log-level",
    "info",
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
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      // Offline: no request.cf download from workers.cloudflare.com, no telemetry.
      env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
    },
  );
  running.add(child);
  child.once("exit", () => running.delete(child));
  passStderr(child);
  const deadline = Date.now() + 60_000;
  const url = await readyUrl(child, deadline);
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

/**
 * The URL wrangler reports it is ready on (`[wrangler:info] Ready on http://…`); stdout is
 * drained from then on. Rejects if wrangler exits or says nothing by `deadline`.
 */
function readyUrl(child: ChildProcess, deadline: number): Promise<string> {
  const stdout = child.stdout;
  if (!stdout) return Promise.reject(new Error("wrangler dev has no stdout"));
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(
      () => finish(new Error("wrangler dev did not start within 60 s")),
      Math.max(0, deadline - Date.now()),
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString("utf8")).slice(-4096);
      const ready = /Ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(seen);
      if (ready?.[1]) finish(null, ready[1]);
    };
    const onExit = (code: number | null) => finish(new Error(`wrangler dev exited with ${code}`));
    function finish(err: Error | null, url = "") {
      clearTimeout(timer);
      stdout?.off("data", onData);
      child.off("exit", onExit);
      stdout?.resume(); // keep draining: a full pipe would stall wrangler
      if (err) reject(err);
      else resolve(url);
    }
    stdout.on("data", onData);
    child.once("exit", onExit);
  });
}

/**
 * wrangler's stderr, line by line, to ours, except blank lines and the runtime's internal
 * diagnostics it marks NOSENTRY (e.g. an alarm rescheduled while it runs): at info level
 * wrangler shows them, and they say nothing about the code under test.
 */
function passStderr(child: ChildProcess): void {
  let partial = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines)
      if (line.trim() !== "" && !line.includes("NOSENTRY")) process.stderr.write(`${line}\n`);
  });
  child.stderr?.on("end", () => {
    if (partial && !partial.includes("NOSENTRY")) process.stderr.write(partial);
  });
}
