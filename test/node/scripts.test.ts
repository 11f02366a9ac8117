import { type ChildProcess, execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../devnet/wrangler.ts";

/** The project scripts as a user runs them: `npm run dev -- --port N`, `npm run deploy:check`. */

let child: ChildProcess | null = null;

afterEach(async () => {
  const running = child;
  child = null;
  if (running?.pid !== undefined && running.exitCode === null) {
    const exited = new Promise((resolve) => running.once("exit", resolve));
    process.kill(-running.pid, "SIGTERM");
    await exited;
  }
});

describe("npm run dev", () => {
  it("behavior: --port moves the Worker to another port; the dev vars and other flags reach wrangler, offline", async () => {
    const port = await freePort();
    child = spawn(
      process.execPath,
      ["scripts/dev.ts", "--port", String(port), "--var", "EXTRA_FLAG:1"],
      {
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    const deadline = Date.now() + 60_000;
    let health: unknown = null;
    while (health === null && Date.now() < deadline && child.exitCode === null) {
      health = await fetch(`http://127.0.0.1:${port}/health`)
        .then((res) => (res.ok ? res.json() : null))
        .catch(() => null);
      // Polling for start-up, not retrying a check: the assertion below runs once.
      if (health === null) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(health, output).toMatchObject({ version: expect.any(String) });
    // wrangler lists the Worker's vars: the defaults, and a flag passed through to it.
    for (const name of ["ALLOW_INSECURE_RELAYS", "ALLOW_INSECURE_UPSTREAMS", "EXTRA_FLAG"]) {
      expect(output).toContain(`env.${name} `);
    }
    // Offline: no request.cf download from workers.cloudflare.com is attempted.
    expect(output).not.toMatch(/Request\.cf|workers\.cloudflare\.com/);
  }, 70_000);
});

describe("npm run deploy:check", () => {
  it("behavior: builds the Worker bundle offline and reports its size against the limits", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["scripts/deploy-check.ts"]);
    const match = /^bundle +([0-9.]+) KiB \(gzip ([0-9.]+) KiB\); Workers limit/m.exec(stdout);
    expect(match, stdout).not.toBeNull();
    const [raw, gzip] = [Number(match?.[1]), Number(match?.[2])];
    expect(gzip).toBeGreaterThan(10);
    expect(gzip).toBeLessThan(raw);
    expect(gzip).toBeLessThan(3 * 1024);
  }, 60_000);
});
