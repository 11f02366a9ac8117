/** What the global setup (test/setup/devnet.ts) provides to every suite via `inject`. */
declare module "vitest" {
  export interface ProvidedContext {
    relayUrl: string;
    nwc: { merchant: string; payer: string; receiveOnly: string };
    upstash: { url: string; token: string } | null;
    /** The devnet control API (devnet/control.ts): wallets, balances, fault injection. */
    devnetControl: string;
  }
}

export {};
