import { parseArgs } from "node:util";
import { startControl } from "./control.ts";
import { startDevnet } from "./index.ts";
import { RECEIVE_METHODS } from "./wallet.ts";

/**
 * `npm run devnet`: starts a relay, a funded `payer` wallet, a receive-only-plus-refunds
 * `merchant` wallet and the Upstash stand-in (when Redis is available), prints one JSON
 * line with everything a client needs, and runs until interrupted.
 */

const USAGE = `Usage: npm run devnet -- [options]
  --relay-port N      relay port on 127.0.0.1 (default 7777)
  --upstash-port N    Upstash REST stand-in port (default 8079)
  --control-port N    devnet control API port (default 7778): wallets, balances, faults
  --upstash-token T   its bearer token (default ln402-devnet)
  --no-upstash        do not start the Upstash stand-in
  --payer-sats N      the payer's starting balance (default 1000000)
  --receive-only      give the merchant a receive-only connection (no pay_invoice)
  --network NAME      regtest (default) or testnet: testnet wallets sign lntb invoices
  --help              show this help`;

const { values } = parseArgs({
  options: {
    "relay-port": { type: "string", default: "7777" },
    "upstash-port": { type: "string", default: "8079" },
    "control-port": { type: "string", default: "7778" },
    "upstash-token": { type: "string", default: "ln402-devnet" },
    "no-upstash": { type: "boolean", default: false },
    "payer-sats": { type: "string", default: "1000000" },
    "receive-only": { type: "boolean", default: false },
    network: { type: "string", default: "regtest" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.help) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(0);
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    process.stderr.write(`--${flag} must be a port number (0–65535), got ${value}\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}

const payerSats = Number(values["payer-sats"]);
if (!Number.isSafeInteger(payerSats) || payerSats < 0) {
  process.stderr.write(`--payer-sats must be a whole number of sats\n${USAGE}\n`);
  process.exit(2);
}

const network = values.network;
if (network !== "regtest" && network !== "testnet") {
  process.stderr.write(`--network must be regtest or testnet, got ${network}\n${USAGE}\n`);
  process.exit(2);
}

/** A port already taken is a one-line message naming the flag that moves it, not a stack. */
function portTaken(err: unknown): never {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "EADDRINUSE") throw err;
  const taken = String((err as { port?: unknown }).port ?? "");
  const flag =
    taken === values["relay-port"]
      ? "--relay-port"
      : taken === values["control-port"]
        ? "--control-port"
        : taken === values["upstash-port"]
          ? "--upstash-port"
          : "--relay-port, --control-port or --upstash-port";
  process.stderr.write(
    `devnet: port ${taken} on 127.0.0.1 is already in use (another devnet?): stop it, or choose another port with ${flag} (0 picks a free one)\n`,
  );
  process.exit(1);
}

const devnet = await startDevnet({
  network,
  relayPort: port("relay-port", values["relay-port"]),
  upstash: values["no-upstash"]
    ? false
    : { port: port("upstash-port", values["upstash-port"]), token: values["upstash-token"] },
  wallets: {
    payer: { balanceSats: payerSats },
    merchant: values["receive-only"] ? { methods: RECEIVE_METHODS } : {},
  },
}).catch(portTaken);

const control = await startControl(devnet, port("control-port", values["control-port"])).catch(
  async (err: unknown) => {
    await devnet.stop();
    return portTaken(err);
  },
);
const line = {
  network,
  relayUrl: devnet.relayUrl,
  wallets: Object.fromEntries(devnet.wallets().map((w) => [w.name, w.connectionString])),
  upstash: devnet.upstash,
  control: control.url,
};
process.stdout.write(`${JSON.stringify(line)}\n`);
if (devnet.upstash === null && !values["no-upstash"]) {
  process.stderr.write(
    "devnet: no Redis found, Upstash stand-in not started (apt-get install -y redis-server, or set REDIS_URL)\n",
  );
}

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await control.stop();
  await devnet.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
