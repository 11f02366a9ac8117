import type { Bolt11Network } from "../bolt11/Bolt11.ts";

/**
 * x402 network ids for Lightning: CAIP-2 `bip122:<first 32 hex of the genesis block
 * hash>` (DESIGN §3). Legacy `lightning:<network>` ids from early integrations are
 * accepted on input and never produced.
 */
export const X402_NETWORKS: Readonly<Record<Bolt11Network, `bip122:${string}`>> = Object.freeze({
  mainnet: "bip122:000000000019d6689c085ae165831e93",
  testnet: "bip122:000000000933ea01ad0ee984209779ba",
  signet: "bip122:00000008819873e925422c1ff0f99f7c",
  regtest: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328",
});

const BY_ID = new Map<string, Bolt11Network>(
  (Object.entries(X402_NETWORKS) as Array<[Bolt11Network, string]>).flatMap(([network, id]) => [
    [id, network],
    [`lightning:${network}`, network],
  ]),
);

/** The Lightning network an x402 network id names (CAIP-2 or legacy alias), or null. */
export function lightningNetwork(id: string): Bolt11Network | null {
  return BY_ID.get(id) ?? null;
}

/** The canonical x402 (CAIP-2) id of a Lightning network. */
export function x402Network(network: Bolt11Network): `bip122:${string}` {
  return X402_NETWORKS[network];
}
