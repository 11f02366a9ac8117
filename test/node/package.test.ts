import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { Ledger } from "../../devnet/ledger.ts";
import { startLndGrpcStandIn } from "../../devnet/lndGrpc.ts";

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

describe("package contents", () => {
  it("behavior: LND over gRPC works from the built package (its .proto files ship and resolve from dist/)", async () => {
    const ledger = new Ledger();
    ledger.openAccount("node");
    const node = await startLndGrpcStandIn({ ledger, wallet: "node" });
    try {
      const options = {
        transport: "grpc",
        host: node.host,
        tlsCert: node.tlsCertPem,
        macaroon: node.macaroonHex,
      };
      const script = `
        const { LndLightningProvider } = await import("ln402/providers");
        const lnd = new LndLightningProvider(${JSON.stringify(options)});
        const network = await lnd.getNetwork();
        const { amountMsat } = await lnd.createInvoice({ amountMsat: 1000 });
        lnd.close();
        console.log(JSON.stringify({ network, amountMsat }));`;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        cwd: ROOT,
      });
      expect(JSON.parse(stdout)).toEqual({ network: "regtest", amountMsat: 1000 });
    } finally {
      await node.stop();
    }
  });

  it("behavior: a Workers bundle of ln402/providers pulls in no gRPC code (the transport loads lazily)", async () => {
    // esbuild is wrangler's bundler: what it makes of the entry is what a Worker would ship.
    const { build } = await import("esbuild");
    const result = await build({
      entryPoints: [join(ROOT, "src/providers/index.ts")],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      logLevel: "silent",
    });
    const code = result.outputFiles.map((f) => f.text).join("");
    expect(code).toContain("LndLightningProvider = class");
    expect(code).not.toMatch(/require\(["']@grpc|from ["']@grpc|node:http2|loadSync\(/);
  });

  it("behavior: the npm package carries the .proto files the gRPC transport loads", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: ROOT,
    });
    const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>;
    expect(pack?.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        "dist/providers/lndGrpc.js",
        "proto/lnd/lightning.proto",
        "proto/lnd/router.proto",
        "proto/lnd/invoices.proto",
      ]),
    );
  });
});
