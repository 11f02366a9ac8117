/**
 * The `ln402` command: pay 402 APIs from an NWC wallet, administer a merchant on an
 * ln402 deployment, and run the devnet and the demo. `main` returns the exit code
 * instead of exiting, so it can be called from code and tests.
 */

import { VERSION } from "../version.ts";
import { ADMIN_USAGE, admin } from "./admin.ts";
import { DEVNET_USAGE, devnet } from "./devnet.ts";
import { CliError, EXIT, type ExitCode, type Io, processIo } from "./io.ts";
import { PAY_USAGE, pay } from "./pay.ts";

/** The top-level help text. */
export const USAGE = `ln402 ${VERSION}: Lightning payments for HTTP APIs

${PAY_USAGE}

${ADMIN_USAGE}

${DEVNET_USAGE}

Exit codes: 0 done; 1 the server answered an error; 2 bad usage or configuration;
3 payment refused before paying (over --max-sats, bad invoice, no payable offer: nothing
was paid); 4 the wallet failed, or the server did not accept a payment that was made;
5 the URL could not be reached.`;

/** Runs one command line (without `node` and the script); resolves with the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<ExitCode> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "pay":
        return await pay(rest, io);
      case "register":
      case "merchant":
      case "stats":
      case "routes":
        return await admin(command, rest, io);
      case "devnet":
      case "demo":
        return await devnet(command, rest, io);
      case "--version":
      case "version":
        io.out(`${VERSION}\n`);
        return EXIT.ok;
      case undefined:
      case "help":
      case "--help":
      case "-h":
        if (command === undefined) io.err(USAGE);
        else io.out(`${USAGE}\n`);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        io.err(`Unknown command: ${command}\n\n${USAGE}`);
        return EXIT.usage;
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.err(`error: ${err.message}`);
      return err.code;
    }
    // parseArgs rejects unknown or malformed options with a TypeError carrying a code.
    if (
      err instanceof TypeError &&
      "code" in err &&
      String(err.code).startsWith("ERR_PARSE_ARGS")
    ) {
      io.err(`error: ${err.message}\nRun ln402 ${command} --help.`);
      return EXIT.usage;
    }
    io.err(`error: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.paymentFailed;
  }
}
