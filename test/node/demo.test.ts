import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("behavior: walks 402 → pay → 200 offline with the price in the merchant's wallet, then a metered stream whose refund is deposit + top-up − spent", async () => {
    const child = spawn(process.execPath, ["devnet/demo.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += String(chunk);
    });
    child.stderr?.on("data", (chunk) => {
      out += String(chunk);
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    expect(code, out).toBe(0);
    const steps = out.split("\n").map((line) => line.split(/\s+/)[0]);
    expect(steps).toEqual(
      expect.arrayContaining(["register", "402", "check", "pay", "200", "balance"]),
    );
    expect(steps.indexOf("402")).toBeLessThan(steps.indexOf("pay"));
    expect(steps.indexOf("pay")).toBeLessThan(steps.indexOf("200"));
    expect(out).toContain("merchant wallet +21000 msat");
    // The official scheme first (lnbtc, settled upfront), then the legacy bip122 flow.
    expect(steps.indexOf("lnbtc")).toBeLessThan(steps.indexOf("bip122"));
    expect(out).toContain("settled upfront: true");
    expect(out.match(/merchant wallet \+21000 msat/g)).toHaveLength(2);
    // Then a metered stream through the gateway: dry, topped up, resumed, closed, refunded.
    const next = (step: string, from: number) => steps.indexOf(step, from);
    const session = steps.indexOf("session");
    expect(session).toBeGreaterThan(steps.indexOf("bip122"));
    const open = next("open", session);
    const dry = next("stream", open);
    const topUp = next("topup", dry);
    const resumed = next("stream", topUp);
    const refundStep = next("refund", next("close", resumed));
    expect([open, dry, topUp, resumed, refundStep].every((i) => i > session)).toBe(true);
    expect(out).toMatch(/stream +(\{"tick":\d\} ){4}\{"tick":5\}, then payment-need-topup/);
    expect(out).toMatch(
      /stream +resumed: \{"tick":6\} \{"tick":7\} \{"tick":8\}, then payment-receipt/,
    );
    const refund =
      /refund +(\d+) msat = deposit (\d+) \+ top-up (\d+) − spent (\d+) msat; payer wallet −(\d+) msat/.exec(
        out,
      );
    expect(refund, out).not.toBeNull();
    const [back, deposit, topUpMsat, spent, paid] = (refund ?? []).slice(1).map(Number);
    expect({ back, deposit, topUpMsat, spent, paid }).toEqual({
      back: 4_000,
      deposit: 10_000,
      topUpMsat: 10_000,
      spent: 16_000,
      paid: 16_000,
    });
    expect(back).toBe((deposit ?? 0) + (topUpMsat ?? 0) - (spent ?? 0));
  }, 90_000);
});

describe("npm run demo, interrupted", () => {
  it("behavior: Ctrl-C once ln402 is up exits and leaves no ln402 running", async () => {
    const child = spawn(process.execPath, ["devnet/demo.ts"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout?.on("data", (chunk) => {
        out += String(chunk);
        const up = /^ln402 +(http:\/\/\S+)$/m.exec(out);
        if (up?.[1]) resolve(up[1]);
      });
      child.once("exit", () => reject(new Error(`the demo ended before ln402 was up:\n${out}`)));
    });
    expect((await fetch(`${url}/health`)).ok).toBe(true);
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    // wrangler dev runs in its own process group: give its SIGTERM a moment to land.
    let reachable = true;
    for (let i = 0; i < 50 && reachable; i++) {
      reachable = await fetch(`${url}/health`).then(
        () => true,
        () => false,
      );
      if (reachable) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reachable).toBe(false);
  }, 60_000);
});
