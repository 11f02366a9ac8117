import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { BadRequestError, PROBLEM_BASE } from "../Errors.ts";
import { isNonPublicHost } from "../Hosts.ts";

/**
 * NIP-47 connection strings:
 * `nostr+walletconnect://<wallet pubkey>?relay=<url>[&relay=…]&secret=<hex>[&lud16=…]`.
 * Parsed and checked once, when a merchant hands one over, so everything downstream
 * gets keys that are valid and relays that are usable. The secret is the client's
 * private key: no message here ever contains it (nor the input that holds it).
 */

/** A validated connection: lowercase hex keys, distinct normalized ws(s) relay URLs in the given order. */
export type NwcConnection = {
  walletPubkey: string;
  relays: string[];
  /** The client's private key, 64 lowercase hex. Never log it. */
  secret: string;
  lud16?: string;
};

/** Options of `parseConnectionString`. */
export type ParseOptions = {
  /**
   * Accept `ws://` relays and relays on local or private addresses (development and
   * tests only); production needs `wss://` on a public host.
   */
  allowInsecureRelays: boolean;
};

/** A connection string that cannot be used; the detail says what to send instead. */
export class InvalidNwcUrlError extends BadRequestError {
  override readonly type = `${PROBLEM_BASE}invalid-nwc-url`;
  override readonly title = "Invalid NWC connection string";

  constructor(detail: string) {
    super(detail);
    this.name = "InvalidNwcUrlError";
  }
}

/** More relays than this is a misconfiguration, and each one costs a socket in the DO. */
export const MAX_RELAYS = 5;
const MAX_INPUT_CHARS = 4096;
/**
 * The canonical scheme first. The legacy `nostrwalletconnect` and the forms without
 * `//` are still produced by older wallets and accepted by @getalby/sdk, so we accept
 * them too.
 */
const SCHEMES = [
  "nostr+walletconnect://",
  "nostrwalletconnect://",
  "nostr+walletconnect:",
  "nostrwalletconnect:",
];
const EXAMPLE = "nostr+walletconnect://<64-hex wallet pubkey>?relay=wss://…&secret=<64 hex>";

/** Parses and validates a connection string; throws `InvalidNwcUrlError`. */
export function parseConnectionString(input: string, options: ParseOptions): NwcConnection {
  const fail = (what: string) => {
    throw new InvalidNwcUrlError(`${what} Send a connection string like ${EXAMPLE}.`);
  };
  if (typeof input !== "string") return fail("The connection string must be a string.");
  const text = input.trim();
  if (text.length > MAX_INPUT_CHARS)
    return fail(`The connection string is longer than ${MAX_INPUT_CHARS} characters.`);
  const scheme = SCHEMES.find((s) => text.toLowerCase().startsWith(s));
  if (scheme === undefined)
    return fail("The connection string must start with nostr+walletconnect://.");

  const rest = text.slice(scheme.length);
  const queryAt = rest.indexOf("?");
  const walletPubkey = (queryAt === -1 ? rest : rest.slice(0, queryAt)).replace(/\/$/, "");
  const query = new URLSearchParams(queryAt === -1 ? "" : rest.slice(queryAt + 1));

  const keyProblem = hexProblem(walletPubkey);
  if (keyProblem) return fail(`The wallet pubkey after the scheme ${keyProblem}.`);
  if (!isXOnlyPoint(walletPubkey))
    return fail("The wallet pubkey is not a valid secp256k1 public key.");

  const secrets = query.getAll("secret");
  if (secrets.length !== 1)
    return fail(`It must carry exactly one secret parameter; found ${secrets.length}.`);
  const secret = secrets[0] ?? "";
  const secretProblem = hexProblem(secret);
  if (secretProblem) return fail(`The secret ${secretProblem}.`);
  if (!secp256k1.utils.isValidSecretKey(hexToBytes(secret)))
    return fail("The secret is not a valid secp256k1 private key.");

  const relays = parseRelays(query.getAll("relay"), options, fail);

  const lud16 = query.get("lud16");
  if (lud16 !== null && lud16 !== "" && !/^[a-z0-9._+-]{1,64}@[a-z0-9.-]{1,253}$/i.test(lud16))
    return fail("The lud16 parameter must be a lightning address like name@example.com.");

  return lud16 ? { walletPubkey, relays, secret, lud16 } : { walletPubkey, relays, secret };
}

/**
 * Relays are named in messages by position and host only: paths and queries are
 * never echoed, so a secret pasted into the wrong place does not come back in an error.
 */
function parseRelays(raw: string[], options: ParseOptions, fail: (what: string) => never) {
  if (raw.length === 0) return fail("It must name at least one relay (relay=wss://…).");
  const relays: string[] = [];
  const seen = new Set<string>();
  for (const [index, value] of raw.entries()) {
    const relay = value.trim();
    const which = `Relay ${index + 1}`;
    if (!URL.canParse(relay)) return fail(`${which} is not a URL.`);
    const url = new URL(relay);
    const named = `${which} (${url.host.replace(/[0-9a-f]{16,}/gi, "…")})`;
    if (url.protocol === "ws:" && !options.allowInsecureRelays)
      return fail(
        `${named} uses ws://, which is unencrypted; use wss://. (A local development relay needs allowInsecureRelays: true in the library, or ALLOW_INSECURE_RELAYS=true on the Worker.)`,
      );
    if (url.protocol !== "wss:" && url.protocol !== "ws:")
      return fail(`${named} must be a wss:// URL, not ${url.protocol}//.`);
    if (url.username || url.password) return fail(`${named} must not carry credentials.`);
    // Relay URLs are attacker input: never dial this machine's or a private network.
    if (!options.allowInsecureRelays && isNonPublicHost(url.hostname))
      return fail(`${named} is a local or private address; relays must be public hosts.`);
    // The URL as parsed is what gets dialled; a bare origin is written without its "/".
    const bare = url.pathname === "/" && url.search === "" && url.hash === "";
    const normalized = bare ? url.href.slice(0, -1) : url.href;
    if (seen.has(normalized)) continue;
    seen.add(normalized);
    relays.push(normalized);
  }
  if (relays.length > MAX_RELAYS)
    return fail(`It names ${relays.length} relays; at most ${MAX_RELAYS} are accepted.`);
  return relays;
}

/**
 * A relay URL fit for messages and unsealed storage: scheme, host and path. Its query
 * (often a relay auth token) and fragment stay inside the sealed connection string.
 */
export function redactRelay(relay: string): string {
  const url = URL.parse(relay);
  if (url === null) return "(invalid relay URL)";
  return `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`;
}

/** Why `value` is not 64 lowercase hex characters, or null. Never echoes the value. */
function hexProblem(value: string): string | null {
  if (value.length === 0) return "is missing";
  if (!/^[0-9a-fA-F]*$/.test(value)) return "must be hex (0-9, a-f)";
  if (/[A-F]/.test(value)) return "must be lowercase hex; lowercase it";
  if (value.length !== 64)
    return `must be 64 hex characters (32 bytes); it has ${value.length}${value.length % 2 ? ", an odd length" : ""}`;
  return null;
}

/** BIP-340: an x-only key is valid when it lifts to a curve point (even Y). */
function isXOnlyPoint(hex: string): boolean {
  return secp256k1.utils.isValidPublicKey(hexToBytes(`02${hex}`), true);
}
