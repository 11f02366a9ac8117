import { type ChildProcess, spawn } from "node:child_process";
import { type AddressInfo, createServer } from "node:net";
import { createInterface } from "node:readline";
import { NWCClient } from "@getalby/sdk/nwc";
import { afterAll, describe, expect, it } from "vitest";

/** `npm run devnet` as a user runs it: a separate process, one JSON line on stdout. */

let child: ChildProcess | null = null;

afterAll(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

async function startCli(args: string[]): Promise<{ line: DevnetLine; process: ChildProcess }> {
  const proc = spawn(process.execPath, ["devnet/cli.ts", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  child = proc;
  const stdout = proc.stdout;
  if (!stdout) throw new Error("no stdout");
  const first = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: stdout });
    rl.once("line", resolve);
    proc.once("exit", (code) => reject(new Error(`devnet exited early with ${code}`)));
  });
  return { line: JSON.parse(first) as DevnetLine, process: proc };
}

type DevnetLine = {
  network: string;
  relayUrl: string;
  wallets: { merchant: string; payer: string };
  upstash: { url: string; token: string } | null;
  control: string;
};

describe("npm run devnet", () => {
  it("behavior: prints one JSON line whose payer can pay the merchant with a separate NWCClient", async () => {
    const { line, process: proc } = await startCli([
      "--relay-port",
      "0",
      "--upstash-port",
      "0",
      "--control-port",
      "0",
    ]);
    expect(line.relayUrl).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(line.wallets).sort()).toEqual(["merchant", "payer"]);
    expect(line.wallets.merchant).toMatch(/^nostr\+walletconnect:\/\/[0-9a-f]{64}\?relay=/);
    if (process.env.CI)
      expect(line.upstash).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:/) });

    const state = (await (await fetch(line.control)).json()) as {
      wallets: Array<{ name: string }>;
    };
    expect(state.wallets.map((w) => w.name).sort()).toEqual(["merchant", "payer"]);

    const merchant = new NWCClient({ nostrWalletConnectUrl: line.wallets.merchant });
    const payer = new NWCClient({ nostrWalletConnectUrl: line.wallets.payer });
    try {
      const before = (await payer.getBalance()).balance;
      expect(before).toBe(1_000_000_000);
      const invoice = await merchant.makeInvoice({ amount: 42_000, description: "cli" });
      await payer.payInvoice({ invoice: invoice.invoice });
      expect((await payer.getBalance()).balance).toBe(before - 42_000);
      expect((await merchant.lookupInvoice({ payment_hash: invoice.payment_hash })).state).toBe(
        "settled",
      );
    } finally {
      merchant.close();
      payer.close();
    }

    const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
    proc.kill("SIGINT");
    expect(await exited).toBe(0);
    // Nothing is left listening on the relay port.
    const probe = new WebSocket(line.relayUrl);
    await expect(
      new Promise((resolve, reject) => {
        probe.onopen = resolve;
        probe.onerror = () => reject(new Error("refused"));
      }),
    ).rejects.toThrow("refused");
  });

  it("error: a bad flag value exits 2 with the usage text", async () => {
    const proc = spawn(process.execPath, ["devnet/cli.ts", "--relay-port", "nope"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toContain("--relay-port must be a port number");
    expect(stderr).toContain("Usage: npm run devnet");
  });

  it("behavior: --network testnet makes every wallet report testnet and sign lntb invoices with a description hash", async () => {
    const { line, process: proc } = await startCli([
      "--network",
      "testnet",
      "--no-upstash",
      "--relay-port",
      "0",
      "--control-port",
      "0",
    ]);
    try {
      expect(line.network).toBe("testnet");
      const merchant = new NWCClient({ nostrWalletConnectUrl: line.wallets.merchant });
      try {
        expect((await merchant.getInfo()).network).toBe("testnet");
      } finally {
        merchant.close();
      }
      const made = await fetch(`${line.control}/wallets/merchant/invoices`, {
        method: "POST",
        body: JSON.stringify({ amountMsat: 21_000, descriptionHash: "ab".repeat(32) }),
      });
      const tx = (await made.json()) as { invoice: string; description_hash: string };
      expect([tx.invoice.slice(0, 4), tx.description_hash]).toEqual(["lntb", "ab".repeat(32)]);
    } finally {
      const exited = new Promise<number | null>((resolve) => proc.once("exit", resolve));
      proc.kill("SIGINT");
      expect(await exited).toBe(0);
    }
  });

  it("error: --network mainnet exits 2: the devnet never signs mainnet invoices", async () => {
    const proc = spawn(process.execPath, ["devnet/cli.ts", "--network", "mainnet"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect([code, stderr.includes("--network must be regtest or testnet")]).toEqual([2, true]);
  });

  it("error: a port already in use is one line naming the flag that moves it, and exit 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = String((taken.address() as AddressInfo).port);
    try {
      const proc = spawn(
        process.execPath,
        ["devnet/cli.ts", "--relay-port", "0", "--control-port", port, "--no-upstash"],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      proc.stderr?.on("data", (chunk) => {
        stderr += String(chunk);
      });
      const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
      expect(code).toBe(1);
      expect(stderr.trim().split("\n")).toEqual([
        `devnet: port ${port} on 127.0.0.1 is already in use (another devnet?): stop it, or choose another port with --control-port (0 picks a free one)`,
      ]);
    } finally {
      taken.close();
    }
  });
});
