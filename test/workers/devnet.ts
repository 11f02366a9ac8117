import { inject } from "vitest";

/** A devnet wallet as the control API describes it. */
export type ControlWallet = {
  name: string;
  connectionString: string;
  walletPubkey: string;
  nodePubkey: string;
  methods: string[];
  balanceMsat: number;
  requests: Record<string, number>;
  listening: boolean;
};

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${inject("devnetControl")}${path}`, {
    method,
    headers: { "Content-Type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok)
    throw new Error(`devnet control ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The devnet control API (devnet/control.ts), for suites running inside workerd. */
export const devnet = {
  createWallet: (
    name: string,
    options: {
      balanceSats?: number;
      methods?: string[];
      encryptions?: string[];
      network?: string;
      notifications?: boolean;
      reportsNodePubkey?: boolean;
    } = {},
  ) => call<ControlWallet>("POST", "/wallets", { name, ...options }),
  wallet: (name: string) => call<ControlWallet>("GET", `/wallets/${encodeURIComponent(name)}`),
  walletFaults: (
    name: string,
    faults: {
      delayMs?: number;
      noReply?: boolean;
      error?: { code: string; message?: string } | null;
      invoiceHash?: string | null;
    },
  ) => call<ControlWallet>("POST", `/wallets/${encodeURIComponent(name)}/faults`, faults),
  relayFaults: (faults: {
    dropAll?: boolean;
    halfOpen?: boolean;
    delayMs?: number;
    refusePublishes?: string | null;
  }) => call<{ ok: true }>("POST", "/relay/faults", faults),
  /** Clears every relay fault; call in afterEach of suites that inject them. */
  healRelay: () =>
    call<{ ok: true }>("POST", "/relay/faults", {
      halfOpen: false,
      delayMs: 0,
      refusePublishes: null,
    }),
};

/** A unique wallet name per call, so suites never share wallet state. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}
