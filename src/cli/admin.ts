/**
 * The merchant commands against an ln402 deployment: `register`, `merchant`, `stats`,
 * `routes get|set`. They print the server's JSON on stdout and its problem (RFC 9457)
 * as one line on stderr with exit code 1.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CliError, describeErrorBody, EXIT, type ExitCode, type Io, reach } from "./io.ts";

/** Help text of the merchant commands. */
export const ADMIN_USAGE = `Merchant commands (deployment: --url or $LN402_URL, default http://127.0.0.1:8787):
  ln402 register [<nwc-url>]     register a wallet (or $MERCHANT_NWC_URL); prints merchantId and apiKey once
  ln402 merchant                 the merchant's network, capabilities and wallet connection
  ln402 stats                    the merchant's payment statistics
  ln402 routes get               the merchant's priced gateway routes
  ln402 routes set -f FILE       replace them with FILE: {"routes": [...]}, the body of
                                 PUT /merchants/:id/routes
  options: --url URL, --merchant ID ($LN402_MERCHANT_ID), --api-key KEY ($LN402_API_KEY)`;

type Target = { base: string; merchantId: string; apiKey: string };

function target(io: Io, values: { url?: string; merchant?: string; "api-key"?: string }): Target {
  const base = (values.url ?? io.env.LN402_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  const merchantId = values.merchant ?? io.env.LN402_MERCHANT_ID;
  const apiKey = values["api-key"] ?? io.env.LN402_API_KEY;
  if (!merchantId)
    throw new CliError(EXIT.usage, "No merchant: set LN402_MERCHANT_ID or pass --merchant m_…");
  if (!apiKey)
    throw new CliError(EXIT.usage, "No API key: set LN402_API_KEY or pass --api-key ln402_sk_…");
  return { base, merchantId, apiKey };
}

/** Sends one request; prints the JSON answer, or the problem in one line. */
async function call(
  io: Io,
  url: string,
  init: RequestInit,
  onMissing?: (detail: string) => string,
): Promise<ExitCode> {
  const res = await reach(url, init);
  const text = await res.text();
  if (res.ok) {
    io.out(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    return EXIT.ok;
  }
  const line = describeErrorBody(res.status, text);
  // A 404 from the app's fallback ("No route for …") means this deployment lacks the feature.
  if (res.status === 404 && onMissing && /No route for/.test(text)) io.err(onMissing(line));
  else io.err(`error: ${line}`);
  return EXIT.httpError;
}

const OPTIONS = {
  url: { type: "string" },
  merchant: { type: "string" },
  "api-key": { type: "string" },
  file: { type: "string", short: "f" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Runs a merchant command (`register`, `merchant`, `stats`, `routes`); resolves with the exit code. */
export async function admin(command: string, argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: OPTIONS,
    allowPositionals: true,
  });
  if (values.help) {
    io.out(`${ADMIN_USAGE}\n`);
    return EXIT.ok;
  }
  if (command === "register") {
    const base = (values.url ?? io.env.LN402_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
    const nwcUrl = positionals[0] ?? io.env.MERCHANT_NWC_URL;
    if (!nwcUrl)
      throw new CliError(
        EXIT.usage,
        "ln402 register needs the merchant wallet's nostr+walletconnect:// string (argument or $MERCHANT_NWC_URL).",
      );
    const code = await call(io, `${base}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nwcUrl }),
    });
    if (code === EXIT.ok)
      io.err("The API key is shown once: keep it (export LN402_MERCHANT_ID=… LN402_API_KEY=…).");
    return code;
  }
  const t = target(io, values);
  const merchantUrl = `${t.base}/merchants/${encodeURIComponent(t.merchantId)}`;
  const auth = { Authorization: `Bearer ${t.apiKey}` };
  if (command === "merchant") return call(io, merchantUrl, { headers: auth });
  if (command === "stats") {
    return call(
      io,
      `${merchantUrl}/stats`,
      { headers: auth },
      (line) => `This deployment has no stats route yet (GET /merchants/:id/stats: ${line}).`,
    );
  }
  if (command === "routes") {
    const [action] = positionals;
    const missing = (line: string) =>
      `This deployment has no gateway routes yet (/merchants/:id/routes: ${line}).`;
    if (action === "get") return call(io, `${merchantUrl}/routes`, { headers: auth }, missing);
    if (action === "set") {
      if (!values.file) throw new CliError(EXIT.usage, "ln402 routes set needs -f routes.json.");
      const text = readFileSync(values.file, "utf8");
      try {
        JSON.parse(text);
      } catch (err) {
        throw new CliError(
          EXIT.usage,
          `${values.file} is not JSON: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      return call(
        io,
        `${merchantUrl}/routes`,
        { method: "PUT", headers: { ...auth, "Content-Type": "application/json" }, body: text },
        missing,
      );
    }
    throw new CliError(EXIT.usage, `ln402 routes get | set -f FILE (got ${action ?? "nothing"}).`);
  }
  throw new CliError(EXIT.usage, `Unknown command ${command}.`);
}
