import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";

/** The library as users install it: `npm run build`, then plain Node imports of each entry. */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");

beforeAll(async () => {
  await run(
    process.execPath,
    [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: ROOT },
  );
}, 120_000);

async function exportsOf(entry: string): Promise<string[]> {
  const script = `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: ROOT,
  });
  return JSON.parse(stdout) as string[];
}

describe("package entry points", () => {
  it("behavior: ln402/x402, ln402/client, ln402/mpp and ln402/providers import from plain Node", async () => {
    expect(await exportsOf("ln402/x402")).toEqual(
      expect.arrayContaining([
        "ExactLightningServerScheme",
        "ln402Facilitator",
        "ln402Invoices",
        "X402_NETWORKS",
      ]),
    );
    expect(await exportsOf("ln402/client")).toEqual(
      expect.arrayContaining([
        "createLightningX402Client",
        "nwcPayer",
        "lightningChargeClient",
        "lightningSessionClient",
        "createPaymentFetch",
      ]),
    );
    expect(await exportsOf("ln402/mpp")).toEqual(
      expect.arrayContaining([
        "lightningChargeServer",
        "lightningSessionServer",
        "createPaymentHandler",
        "LightningError",
        "InsufficientBalanceError",
        "InvoiceExpiredError",
        "RouteNotFoundError",
        "PaymentTimeoutError",
        "ConnectionError",
        "AuthenticationError",
        "MemoryStore",
        "UpstashStore",
      ]),
    );
    expect(await exportsOf("ln402/providers")).toEqual(
      expect.arrayContaining([
        "NwcLightningProvider",
        "LndLightningProvider",
        "MockLightningProvider",
        "HostedLightningProvider",
      ]),
    );
  });

  it("behavior: the ln402 command runs from the build (the package's bin falls back to dist/)", async () => {
    const script = `const { main } = await import("./dist/cli/main.js"); process.exitCode = await main(["--version"]);`;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: ROOT,
    });
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      version: string;
      bin: Record<string, string>;
      files: string[];
      scripts: Record<string, string>;
    };
    expect(stdout.trim()).toBe(pkg.version);
    expect(pkg.bin.ln402).toBe("bin/ln402.js");
    expect(pkg.files).toEqual(expect.arrayContaining(["bin", "dist"]));
    expect(pkg.scripts.prepack).toBe("npm run build");
  });
});
