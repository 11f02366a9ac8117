import type { Bolt11Network } from "../bolt11/Bolt11.ts";

/**
 * The one table from what wallets report as their network (NIP-47 `get_info.network`;
 * wallets follow bitcoind and LND names) to ln402's BOLT11 networks. Used by
 * registration, the NWC provider and the payer alike.
 */
const NETWORK_NAMES: Readonly<Record<string, Bolt11Network>> = {
  bitcoin: "mainnet",
  mainnet: "mainnet",
  main: "mainnet",
  testnet: "testnet",
  testnet3: "testnet",
  testnet4: "testnet",
  test: "testnet",
  signet: "signet",
  regtest: "regtest",
};

/** The BOLT11 network a wallet's `network` name means, or null for one ln402 does not serve. */
export function walletNetwork(name: unknown): Bolt11Network | null {
  if (typeof name !== "string") return null;
  return Object.hasOwn(NETWORK_NAMES, name.toLowerCase())
    ? (NETWORK_NAMES[name.toLowerCase()] ?? null)
    : null;
}

/** Every network name `walletNetwork` accepts (for messages). */
export const WALLET_NETWORK_NAMES: readonly string[] = Object.keys(NETWORK_NAMES);
