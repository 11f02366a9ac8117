import { Bolt11Error } from "./Bolt11Error.ts";

/** BIP-173 currency prefix of each network; the invoice prefix is `ln` + this (BOLT #11 §Human-Readable Part). */
export const CURRENCY_PREFIX = {
  mainnet: "bc",
  testnet: "tb",
  signet: "tbs",
  regtest: "bcrt",
} as const;

/** The networks an invoice can be for, derived from the prefix table so the two never drift. */
export type Bolt11Network = keyof typeof CURRENCY_PREFIX;

/** Millisatoshis in one unit of each multiplier; the unit is the bitcoin, not the satoshi. */
const MSAT_PER_UNIT = {
  "": 100_000_000_000n,
  m: 100_000_000n,
  u: 100_000n,
  n: 100n,
} as const;

const NETWORK_BY_CURRENCY: ReadonlyMap<string, Bolt11Network> = new Map(
  Object.entries(CURRENCY_PREFIX).map(([network, currency]) => [
    currency,
    network as Bolt11Network,
  ]),
);

/** The network and amount that a human-readable part (e.g. `lnbc2500u`) states. */
export type ParsedHrp = { network: Bolt11Network; amountMsat: number | null };

/** Parses a lowercase human-readable part per BOLT #11 §Human-Readable Part (reader rules). */
export function parseHrp(hrp: string): ParsedHrp {
  // The currency is the letters after `ln`; the amount starts at the first digit.
  const match = /^ln([a-z]*)(.*)$/.exec(hrp);
  const network = match ? NETWORK_BY_CURRENCY.get(match[1] ?? "") : undefined;
  if (!match || !network) {
    throw new Bolt11Error(
      "unknown-network",
      `Invoice prefix "${hrp.slice(0, 12)}" is not one of lnbc, lntb, lntbs, lnbcrt.`,
    );
  }
  const amount = match[2] ?? "";
  if (amount === "") return { network, amountMsat: null };
  return { network, amountMsat: parseAmount(amount) };
}

/** Writes the human-readable part for a network and an optional amount. */
export function formatHrp(network: Bolt11Network, amountMsat: number | null): string {
  const currency = CURRENCY_PREFIX[network];
  if (currency === undefined) {
    throw new Bolt11Error("invalid-field", `Unknown network "${String(network)}".`);
  }
  return `ln${currency}${amountMsat === null ? "" : formatAmount(amountMsat)}`;
}

/** Reads `<digits><multiplier?>` into whole millisatoshis. */
function parseAmount(amount: string): number {
  const match = /^([1-9][0-9]*)([munp]?)$/.exec(amount);
  const digits = match?.[1];
  const multiplier = match?.[2] ?? "";
  if (digits === undefined) {
    // Writers MUST use a positive integer without leading zeros, and readers MUST fail
    // on a non-digit or an unknown multiplier (BOLT #11 §Human-Readable Part).
    throw new Bolt11Error(
      "malformed",
      `Invoice amount "${amount.slice(0, 24)}" must be a positive integer with no leading zero, then optionally m, u, n or p.`,
    );
  }
  const value = BigInt(digits);
  let msat: bigint;
  if (multiplier === "p") {
    // One pico-bitcoin is a tenth of a millisatoshi, which no HTLC can carry.
    if (value % 10n !== 0n) {
      throw new Bolt11Error(
        "amount-out-of-range",
        `Invoice amount "${amount.slice(0, 24)}" is not a whole number of millisatoshis.`,
      );
    }
    msat = value / 10n;
  } else {
    msat = value * MSAT_PER_UNIT[multiplier as keyof typeof MSAT_PER_UNIT];
  }
  if (msat > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Bolt11Error(
      "amount-out-of-range",
      `Invoice amount ${msat} msat is above the largest supported (${Number.MAX_SAFE_INTEGER} msat).`,
    );
  }
  return Number(msat);
}

/** Writes msat with the largest multiplier that keeps it an integer, as BOLT #11 asks writers to. */
function formatAmount(amountMsat: number): string {
  if (!Number.isSafeInteger(amountMsat) || amountMsat <= 0) {
    throw new Bolt11Error(
      "amount-out-of-range",
      `amountMsat must be a positive safe integer, or null for a no-amount invoice; got ${amountMsat}.`,
    );
  }
  const msat = BigInt(amountMsat);
  for (const [multiplier, unit] of Object.entries(MSAT_PER_UNIT)) {
    if (msat % unit === 0n) return `${msat / unit}${multiplier}`;
  }
  // Pico amounts are tenths of a msat, so they always end in 0 as the spec requires.
  return `${msat * 10n}p`;
}
