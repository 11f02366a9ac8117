/**
 * `ln402 devnet`, `ln402 devnet pay` and `ln402 demo`. Starting the devnet or the demo
 * runs the repository's devnet scripts (they are development tools and do not ship in
 * the package); `devnet pay` only talks to a running devnet's control API, so it works
 * from anywhere.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CliError, describeErrorBody, EXIT, type ExitCode, type Io, reach } from "./io.ts";

/** Help text of the devnet commands. */
export const DEVNET_USAGE = `Devnet commands (an offline Lightning-over-NWC network; from a clone of the repository):
  ln402 devnet [options]         start it (options: ln402 devnet --help)
  ln402 devnet pay [--wallet payer] [--control URL] <bolt11>
                                 pay an invoice from a devnet wallet (control API: --control,
                                 $LN402_DEVNET_CONTROL, default http://127.0.0.1:7778)
  ln402 demo                     paid requests through the whole stack, offline: x402 on
                                 lnbtc and bip122, and an MPP session through the gateway`;

/** The repository root: this file is src/cli/ (or dist/cli/ once built), two levels down. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs a devnet script with this Node, passing the terminal through; resolves with its exit code. */
function runScript(script: string, args: string[]): Promise<ExitCode> {
  const path = `${ROOT}${script}`;
  if (!existsSync(path))
    throw new CliError(
      EXIT.usage,
      `${script} is not here: the devnet and the demo run from a clone of the ln402 repository (npx ln402 … there).`,
    );
  const child = spawn(process.execPath, [path, ...args], { stdio: "inherit", cwd: ROOT });
  // Ctrl-C reaches the child through the terminal; do not die before it has cleaned up.
  const ignore = () => undefined;
  process.on("SIGINT", ignore);
  process.on("SIGTERM", ignore);
  return new Promise((resolve) => {
    child.once("exit", (code) => {
      process.off("SIGINT", ignore);
      process.off("SIGTERM", ignore);
      resolve(code === 0 ? EXIT.ok : code === 2 ? EXIT.usage : EXIT.httpError);
    });
  });
}

/** `ln402 devnet pay`: asks the control API to pay `invoice` from a named wallet. */
async function devnetPay(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      wallet: { type: "string", default: "payer" },
      control: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(`${DEVNET_USAGE}\n`);
    return EXIT.ok;
  }
  const [invoice, ...extra] = positionals;
  if (!invoice || extra.length > 0)
    throw new CliError(EXIT.usage, `ln402 devnet pay takes one BOLT11 invoice.\n${DEVNET_USAGE}`);
  const control = (
    values.control ??
    io.env.LN402_DEVNET_CONTROL ??
    "http://127.0.0.1:7778"
  ).replace(/\/+$/, "");
  const url = `${control}/wallets/${encodeURIComponent(values.wallet)}/pay`;
  const res = await reach(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ invoice }),
  });
  const text = await res.text();
  if (!res.ok) {
    io.err(`error: ${describeErrorBody(res.status, text)}`);
    return res.status === 404 ? EXIT.usage : EXIT.paymentFailed;
  }
  io.out(`${text}\n`);
  return EXIT.ok;
}

/** Runs `ln402 devnet …` or `ln402 demo`; resolves with the exit code. */
export async function devnet(command: string, argv: string[], io: Io): Promise<ExitCode> {
  if (command === "demo") return runScript("devnet/demo.ts", argv);
  if (argv[0] === "pay") return devnetPay(argv.slice(1), io);
  return runScript("devnet/cli.ts", argv);
}
