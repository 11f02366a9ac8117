import type { NwcConnection } from "../../protocol/nip47/ConnectionString.ts";
import type { NwcClient } from "../../relay/NwcClient.ts";
import { walletProblem, walletRejected } from "./walletErrors.ts";

/** What a merchant's wallet connection allows, as reported at registration. */
export type Capabilities = {
  /** make_invoice + lookup_invoice: required. */
  receive: boolean;
  /** pay_invoice: needed only for session refunds. */
  refunds: boolean;
  /** payment_received notifications: paid invoices are known without polling. */
  notifications: boolean;
  /** make/settle/cancel hold invoices. */
  holdInvoices: boolean;
};

/** The merchant's wallet as stored in its Durable Object. `sealedNwc` never leaves the DO. */
export type WalletRecord = {
  merchantId: string;
  walletPubkey: string;
  relays: string[];
  network: "mainnet" | "testnet" | "signet" | "regtest";
  /** The Lightning node key get_info reported (signs the wallet's invoices), if any. */
  nodePubkey: string | null;
  capabilities: Capabilities;
  methods: string[];
  registeredAt: number;
  sealedNwc: string;
};

const NETWORKS = ["mainnet", "testnet", "signet", "regtest"] as const;
const REQUIRED = ["make_invoice", "lookup_invoice"] as const;

/**
 * Registration's checks on an open connection: `get_info` answers within the client's
 * timeout, the network is one ln402 serves, and receiving is allowed. Each failure is a
 * 422 that says what the merchant must fix.
 */
export async function checkWallet(
  client: NwcClient,
  connection: NwcConnection,
  merchantId: string,
): Promise<Omit<WalletRecord, "sealedNwc">> {
  let info: Awaited<ReturnType<NwcClient["getInfo"]>>;
  try {
    info = await client.getInfo();
  } catch (err) {
    const problem = walletProblem(err, "answer get_info");
    throw walletRejected(
      "wallet-unusable",
      "Wallet did not answer get_info",
      `${problem.detail} Registration needs get_info to check the wallet's network; allow it on this connection.`,
    );
  }
  const network = NETWORKS.find((n) => n === info.network);
  if (!network) {
    throw walletRejected(
      "wallet-wrong-network",
      "Unsupported wallet network",
      `The wallet reports network "${String(info.network ?? "")}"; ln402 serves ${NETWORKS.join(", ")}.`,
    );
  }
  const methods = [...new Set([...(info.methods ?? []), ...client.info.methods])];
  const missing = REQUIRED.filter((m) => !methods.includes(m));
  if (missing.length > 0) {
    throw walletRejected(
      "wallet-missing-methods",
      "Wallet cannot receive",
      `This connection does not allow ${missing.join(" and ")}, which ln402 needs to issue and check invoices. Create a connection with at least make_invoice and lookup_invoice.`,
      { missing },
    );
  }
  const notifications = [...(info.notifications ?? []), ...client.info.notifications];
  return {
    merchantId,
    walletPubkey: connection.walletPubkey,
    relays: connection.relays,
    network,
    nodePubkey:
      typeof info.pubkey === "string" && /^0[23][0-9a-f]{64}$/.test(info.pubkey)
        ? info.pubkey
        : null,
    capabilities: {
      receive: true,
      refunds: methods.includes("pay_invoice"),
      notifications: notifications.includes("payment_received"),
      holdInvoices: ["make_hold_invoice", "settle_hold_invoice", "cancel_hold_invoice"].every((m) =>
        methods.includes(m),
      ),
    },
    methods,
    registeredAt: Math.floor(Date.now() / 1000),
  };
}
