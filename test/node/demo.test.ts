import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

describe("npm run demo", () => {
  it("behavior: walks 402 → pay → 200 offline and ends with the price in the merchant's wallet", async () => {
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
  }, 90_000);
});
