import type { Bolt11Network } from "../../bolt11/Bolt11.ts";

/**
 * x402 network ids of the official Lightning scheme: CAIP-2 `lnbtc:<first 32 hex of the
 * genesis block hash>` (scheme_exact_lnbtc §Scheme and Networks). The spec defines
 * mainnet (`bc`) and testnet (`tb`); the regtest id (`bcrt`) is the reference package's
 * test-only network and is accepted only where a caller opts in (the devnet, tests).
 */
export const LNBTC_NETWORKS = Object.freeze({
  mainnet: "lnbtc:000000000019d6689c085ae165831e93",
  testnet: "lnbtc:000000000933ea01ad0ee984209779ba",
  regtest: "lnbtc:0f9188f13cb7b2c71f2a335e3a4fc328",
} as const);

/** An lnbtc network ln402 knows. */
export type LnbtcNetworkName = keyof typeof LNBTC_NETWORKS;

/** An lnbtc CAIP-2 id ln402 knows. */
export type LnbtcNetworkId = (typeof LNBTC_NETWORKS)[LnbtcNetworkName];

/** The networks the spec defines; regtest is added only on request. */
export const SPEC_NETWORKS: readonly LnbtcNetworkName[] = Object.freeze(["mainnet", "testnet"]);

const BY_ID = new Map<string, LnbtcNetworkName>(
  (Object.entries(LNBTC_NETWORKS) as Array<[LnbtcNetworkName, string]>).map(([n, id]) => [id, n]),
);

/** Whether an x402 network id is in the `lnbtc` namespace (any reference). */
export function isLnbtcNamespace(id: string): boolean {
  return id.startsWith("lnbtc:");
}

/**
 * The Lightning network of an lnbtc id when it is one of `allowed`, else null. The BOLT11
 * currency follows from it: mainnet `bc`, testnet `tb`, regtest `bcrt` (§Network and
 * Currency Confusion: a `tb` invoice never passes under the mainnet id).
 */
export function lnbtcNetwork(
  id: string,
  allowed: readonly LnbtcNetworkName[] = SPEC_NETWORKS,
): (LnbtcNetworkName & Bolt11Network) | null {
  const network = BY_ID.get(id);
  return network !== undefined && allowed.includes(network) ? network : null;
}

/** The lnbtc CAIP-2 id of a Lightning network, or null for one lnbtc does not name (signet). */
export function lnbtcNetworkId(network: Bolt11Network): LnbtcNetworkId | null {
  return network === "signet" ? null : LNBTC_NETWORKS[network];
}
