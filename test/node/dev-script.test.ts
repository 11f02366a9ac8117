import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../../devnet/wrangler.ts";

/** `npm run dev -- --port N` as a user runs it: the Worker answers on the port asked for. */

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
  it("behavior: --port moves the Worker to another port; /health answers there", async () => {
    const port = await freePort();
    child = spawn(
      process.execPath,
      ["scripts/dev.ts", "--port", String(port), "--log-level", "error"],
      {
        stdio: ["ignore", "ignore", "inherit"],
        detached: true,
      },
    );
    const deadline = Date.now() + 60_000;
    let health: unknown = null;
    while (health === null && Date.now() < deadline && child.exitCode === null) {
      health = await fetch(`http://127.0.0.1:${port}/health`)
        .then((res) => (res.ok ? res.json() : null))
        .catch(() => null);
      // Polling for start-up, not retrying a check: the assertion below runs once.
      if (health === null) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(health).toMatchObject({ version: expect.any(String) });
  }, 70_000);
});
