/**
 * `ln402 pay <url>`: a curl that pays. Sends the request; on a 402 picks the first offer
 * in `SCHEMES` it can pay, has the project's client check and pay it from the NWC
 * wallet within `--max-sats`, retries, and prints the body (or `--json`) on stdout.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LnbtcClientError } from "../client/lnbtc.ts";
import { X402LightningClientError } from "../client/x402.ts";
import { ChargeRefusedError } from "../mpp/chargeClient.ts";
import { SessionClientError } from "../mpp/session/client.ts";
import { LightningError } from "../providers/errors.ts";
import { NwcLightningProvider } from "../providers/nwc.ts";
import { CliError, EXIT, type ExitCode, type Io, reach, step } from "./io.ts";
import type { Paid } from "./offer.ts";
import { SCHEMES } from "./schemes.ts";

/** Help text of `ln402 pay`. */
export const PAY_USAGE = `Usage: ln402 pay <url> [options]
  -X, --method M        HTTP method (default GET, or POST with --data)
  -d, --data D          request body; @file reads it from a file
  -H, --header 'K: V'   a request header (repeatable)
      --max-sats N      the most this command may pay, in sats (default 100)
      --wallet NWC      the paying wallet's nostr+walletconnect:// string (default: $NWC_URL)
      --allow-insecure-relays  accept ws:// relays that are not on this machine
      --json            print {url, status, contentType, body, payment} instead of the body
  -s, --silent          no progress on stderr
Pays x402 exact on lnbtc (the invoice bound to this request) and on bip122 (legacy), and
MPP lightning charge and session 402s, preferred in that order. Every invoice is
checked (signature, amount, hash, network, expiry) before paying; a session is closed
at the end and its unspent deposit refunded.`;

/** Reject ws:// relays except on this machine, unless asked: NWC secrets travel over them. */
function insecureAllowed(connectionString: string, flag: boolean): boolean {
  if (flag) return true;
  try {
    const relays = new URL(connectionString).searchParams.getAll("relay");
    return relays.every((relay) => {
      const url = new URL(relay);
      return url.protocol === "wss:" || ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
    });
  } catch {
    return false; // the provider reports a malformed string itself
  }
}

/** The exit code for an error thrown while paying; refusals happen before money moves. */
function classify(err: unknown): ExitCode {
  if (err instanceof X402LightningClientError)
    return err.code === "bad_preimage" ? EXIT.paymentFailed : EXIT.refused;
  // The lnbtc client's reasons after the wallet was asked are exact_lnbtc_payment_* and
  // *_payer_*: money may have moved. Every other reason is a refusal before paying.
  if (err instanceof LnbtcClientError)
    return /^exact_lnbtc_payment_|_payer_/.test(err.reason) ? EXIT.paymentFailed : EXIT.refused;
  if (err instanceof ChargeRefusedError)
    return err.reason === "bad-preimage" ? EXIT.paymentFailed : EXIT.refused;
  if (err instanceof SessionClientError)
    return err.status === 422 ? EXIT.refused : EXIT.paymentFailed;
  if (err instanceof LightningError) return EXIT.paymentFailed;
  // @x402/core's client throws a plain Error when no registered scheme takes any offer.
  if (
    err instanceof Error &&
    /no (network|scheme)|not supported|no matching|rejected by spendControls/i.test(err.message)
  )
    return EXIT.refused;
  return EXIT.paymentFailed;
}

/** The events completed in an SSE buffer, and what is left over (WHATWG SSE §parsing). */
function takeEvents(buffer: string): { events: { event: string; data: string }[]; rest: string } {
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop() ?? "";
  const events = blocks.map((block) => {
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    return { event, data: data.join("\n") };
  });
  return { events, rest };
}

/**
 * Writes the body to `out` as it arrives and returns it as text; for a paid event stream
 * the scheme sees each event (a session tops up, or stops the stream at the cap).
 */
async function relayBody(out: Io["out"], paid: Paid | null, response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  const watch =
    (response.headers.get("Content-Type") ?? "").includes("text/event-stream") && paid?.onEvent;
  let text = "";
  let pending = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out(value);
    const decoded = decoder.decode(value, { stream: true });
    text += decoded;
    if (!watch) continue;
    const { events, rest } = takeEvents(pending + decoded);
    pending = rest;
    for (const event of events) {
      if ((await watch(event)) === "stop") {
        // A held stream would wait for a top-up that will not come.
        await reader.cancel().catch(() => undefined);
        return text;
      }
    }
  }
  return text + decoder.decode();
}

/** Runs `ln402 pay`; resolves with the exit code. */
export async function pay(argv: string[], io: Io): Promise<ExitCode> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      method: { type: "string", short: "X" },
      data: { type: "string", short: "d" },
      header: { type: "string", short: "H", multiple: true, default: [] },
      "max-sats": { type: "string", default: "100" },
      wallet: { type: "string" },
      "allow-insecure-relays": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      silent: { type: "boolean", short: "s", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    io.out(`${PAY_USAGE}\n`);
    return EXIT.ok;
  }
  const [url, ...extra] = positionals;
  if (!url || extra.length > 0)
    throw new CliError(EXIT.usage, `ln402 pay takes one URL.\n${PAY_USAGE}`);
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
    throw new CliError(EXIT.usage, `Not an http(s) URL: ${url}`);
  const maxSats = Number(values["max-sats"]);
  if (!Number.isSafeInteger(maxSats) || maxSats <= 0)
    throw new CliError(
      EXIT.usage,
      `--max-sats must be a positive whole number of sats, got ${values["max-sats"]}.`,
    );
  const headers = new Headers();
  for (const header of values.header) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new CliError(EXIT.usage, `A header is 'Name: value', got ${header}.`);
    headers.append(header.slice(0, colon).trim(), header.slice(colon + 1).trim());
  }
  const data =
    values.data?.startsWith("@") === true
      ? readFileSync(values.data.slice(1), "utf8")
      : values.data;
  const method = (values.method ?? (data === undefined ? "GET" : "POST")).toUpperCase();
  const request = () =>
    new Request(url, { method, headers, ...(data !== undefined && { body: data }) });
  const log: Io = values.silent ? { ...io, err: () => undefined } : io;
  const send = (req: Request) => reach(req.url, req);
  // With --json the body goes into the JSON document instead of straight to stdout.
  const sink: Io["out"] = values.json ? () => undefined : io.out;

  step(log, "request", `${method} ${url}`);
  const first = await send(request());
  let paid: Paid | null = null;
  let response = first;
  if (first.status === 402) {
    await first.body?.cancel();
    const scheme = SCHEMES.find((s) => s.offered(first));
    if (!scheme)
      throw new CliError(
        EXIT.refused,
        `${url} asks for a payment ln402 cannot make (it pays ${SCHEMES.map((s) => s.name).join(", ")}). Nothing was paid.`,
      );
    const connectionString = values.wallet ?? io.env.NWC_URL;
    if (!connectionString)
      throw new CliError(
        EXIT.usage,
        "No wallet: set NWC_URL or pass --wallet nostr+walletconnect://…",
      );
    const wallet = new NwcLightningProvider({
      connectionString,
      allowInsecureRelays: insecureAllowed(connectionString, values["allow-insecure-relays"]),
    });
    try {
      try {
        paid = await scheme.pay(first, { io: log, wallet, maxSats, request, send });
      } catch (err) {
        if (err instanceof CliError) throw err;
        const code = classify(err);
        const message = err instanceof Error ? err.message : String(err);
        throw new CliError(code, code === EXIT.refused ? `${message} Nothing was paid.` : message);
      }
      response = paid.response;
      step(log, String(response.status), response.statusText || "");
      const text = await relayBody(sink, paid, response);
      await paid.finish?.();
      return finish(io, values.json, url, response, text, paid);
    } finally {
      wallet.close();
    }
  }
  step(log, String(response.status), response.statusText || "");
  const text = await relayBody(sink, null, response);
  return finish(io, values.json, url, response, text, null);
}

function finish(
  io: Io,
  json: boolean,
  url: string,
  response: Response,
  text: string,
  paid: Paid | null,
): ExitCode {
  if (json) {
    io.out(
      `${JSON.stringify({
        url,
        status: response.status,
        contentType: response.headers.get("Content-Type"),
        body: text,
        payment: paid?.payment ?? null,
      })}\n`,
    );
  }
  if (paid && response.status === 402) {
    io.err("error    the server did not accept the payment (402 again); the wallet paid it");
    return EXIT.paymentFailed;
  }
  return response.status >= 400 ? EXIT.httpError : EXIT.ok;
}
