import { bytesToHex } from "@noble/hashes/utils.js";
import * as nip04 from "nostr-tools/nip04";
import * as nip44 from "nostr-tools/nip44";
import type { NostrEvent } from "nostr-tools/pure";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import {
  type InvoiceRequest,
  type Ledger,
  LedgerError,
  type LedgerNotification,
  type Nip47Transaction,
} from "./ledger.ts";
import { openRelayLink, type RelayLink } from "./relayClient.ts";

/** Every NIP-47 method a devnet wallet implements. */
export const ALL_METHODS = [
  "get_info",
  "get_balance",
  "make_invoice",
  "lookup_invoice",
  "pay_invoice",
  "list_transactions",
  "make_hold_invoice",
  "settle_hold_invoice",
  "cancel_hold_invoice",
] as const;

/** A receive-only connection: what a merchant should hand to a facilitator. */
export const RECEIVE_METHODS = ["get_info", "make_invoice", "lookup_invoice"] as const;

const NOTIFICATIONS = ["payment_received", "payment_sent", "hold_invoice_accepted"];

/** An encryption scheme of NIP-47 (§encryption). */
export type Encryption = "nip44_v2" | "nip04";

/** Options of one devnet wallet. */
export type WalletOptions = {
  name: string;
  /** Methods this connection may call; others answer RESTRICTED. Default: all. */
  methods?: readonly string[];
  /** Encryptions offered in the info event, preferred first. Default: nip44_v2, nip04. */
  encryptions?: readonly Encryption[];
  /**
   * The network get_info reports. `testnet` also makes the node sign `lntb` invoices
   * (set on its ledger account); any other name but regtest is a fault for tests:
   * get_info says it, invoices stay regtest. Default: regtest.
   */
  network?: string;
  /** Whether the wallet sends notifications (many real wallets do not). Default: true. */
  notifications?: boolean;
  /** Whether get_info names the node key (some wallets omit it). Default: true. */
  reportsNodePubkey?: boolean;
};

/** Per-wallet fault injection. */
export type WalletFaults = {
  /** Delays every reply by `ms`. */
  setDelay(ms: number): void;
  /** Answers every request with this NIP-47 error code; `null` behaves normally again. */
  setError(code: string | null, message?: string): void;
  /** Never replies (a wallet service that is down while its relay is up). */
  setNoReply(on: boolean): void;
  /**
   * A lying wallet: make_invoice answers with a validly signed invoice for this payment
   * hash (someone else's, say) instead of a fresh one; `null` behaves normally again.
   */
  setInvoiceHash(paymentHash: string | null): void;
};

/** A devnet wallet service reachable through its NWC connection string. */
export type DevnetWallet = {
  name: string;
  /** The wallet service's Nostr public key (in the connection string). */
  walletPubkey: string;
  /** The client's Nostr public key (derived from the connection string's secret). */
  clientPubkey: string;
  /** The Lightning node key that signs this wallet's invoices. */
  nodePubkey: string;
  connectionString: string;
  methods: readonly string[];
  faults: WalletFaults;
  balanceMsat(): number;
  fund(amountMsat: number): number;
  /**
   * Issues an invoice directly, without NWC (scripts, and zero-amount invoices, which
   * some NWC clients refuse to request). `amountMsat` 0 makes a no-amount invoice.
   */
  makeInvoice(request: InvoiceRequest): Nip47Transaction;
  /** How many requests of each method this wallet has received (decrypted and parsed). */
  requestCounts(): Record<string, number>;
  /** Resolves when the service listens on the relay and its info event is published. */
  ready(): Promise<void>;
  stop(): void;
};

type Request = { method: string; params: Record<string, unknown> };

/**
 * Starts a NIP-47 wallet service for one devnet wallet: it publishes its info event
 * (kind 13194), answers requests (23194 → 23195) in NIP-44 v2 or NIP-04 as the
 * request asks, and publishes notifications (23197 NIP-44; 23196 NIP-04 when offered).
 */
export function startWalletService(
  relayUrl: string,
  ledger: Ledger,
  options: WalletOptions,
): DevnetWallet {
  const walletKey = generateSecretKey();
  const walletPubkey = getPublicKey(walletKey);
  const clientKey = generateSecretKey();
  const clientPubkey = getPublicKey(clientKey);
  const methods = options.methods ?? ALL_METHODS;
  const encryptions = options.encryptions ?? ["nip44_v2", "nip04"];
  const nip44Key = nip44.v2.utils.getConversationKey(walletKey, clientPubkey);
  const name = options.name;
  let delayMs = 0;
  let fixedError: { code: string; message: string } | null = null;
  let noReply = false;
  let forcedHash: string | null = null;
  const requestCounts: Record<string, number> = {};
  const notifications = options.notifications === false ? [] : NOTIFICATIONS;

  const encrypt = (plaintext: string, scheme: Encryption) =>
    scheme === "nip44_v2"
      ? nip44.v2.encrypt(plaintext, nip44Key)
      : nip04.encrypt(walletKey, clientPubkey, plaintext);
  const decrypt = (ciphertext: string, scheme: Encryption) =>
    scheme === "nip44_v2"
      ? nip44.v2.decrypt(ciphertext, nip44Key)
      : nip04.decrypt(walletKey, clientPubkey, ciphertext);

  const sign = (kind: number, tags: string[][], content: string) =>
    finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), tags, content }, walletKey);

  const reply = async (request: NostrEvent, scheme: Encryption, body: unknown) => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const tags = [
      ["p", request.pubkey],
      ["e", request.id],
    ];
    await link.publish(sign(23195, tags, encrypt(JSON.stringify(body), scheme)));
  };

  const handle = async (event: NostrEvent) => {
    if (event.pubkey !== clientPubkey || noReply) return;
    const expiration = Number(event.tags.find((t) => t[0] === "expiration")?.[1]);
    if (Number.isFinite(expiration) && expiration < Date.now() / 1000) return; // NIP-47: expired requests are ignored
    const tag = event.tags.find((t) => t[0] === "encryption")?.[1];
    // NIP-47 §encryption: no tag means NIP-04 (clients from before NIP-44).
    const scheme: Encryption | null =
      tag === undefined || tag === "nip04" ? "nip04" : tag === "nip44_v2" ? "nip44_v2" : null;
    if (scheme === null || !encryptions.includes(scheme)) {
      const answerIn: Encryption = encryptions.includes("nip44_v2") ? "nip44_v2" : "nip04";
      const error = {
        code: "UNSUPPORTED_ENCRYPTION",
        message: `supported: ${encryptions.join(" ")}`,
      };
      await reply(event, answerIn, { result_type: "", error, result: null });
      return;
    }
    let request: Request;
    try {
      request = parseRequest(decrypt(event.content, scheme));
    } catch {
      return; // Not for us or not decryptable: a real service drops these too.
    }
    const result_type = request.method;
    requestCounts[request.method] = (requestCounts[request.method] ?? 0) + 1;
    if (fixedError) {
      await reply(event, scheme, { result_type, error: fixedError, result: null });
      return;
    }
    if (!(ALL_METHODS as readonly string[]).includes(request.method)) {
      const error = {
        code: "NOT_IMPLEMENTED",
        message: `method ${request.method} is not supported`,
      };
      await reply(event, scheme, { result_type, error, result: null });
      return;
    }
    if (!methods.includes(request.method)) {
      const error = {
        code: "RESTRICTED",
        message: `this connection may not call ${request.method}`,
      };
      await reply(event, scheme, { result_type, error, result: null });
      return;
    }
    try {
      const result = await execute(request);
      await reply(event, scheme, { result_type, error: null, result });
    } catch (err) {
      const error =
        err instanceof LedgerError
          ? { code: err.code, message: err.message }
          : { code: "INTERNAL", message: "the devnet wallet failed to handle this request" };
      await reply(event, scheme, { result_type, error, result: null });
    }
  };

  const execute = async ({ method, params }: Request): Promise<unknown> => {
    switch (method) {
      case "get_info":
        return {
          alias: `devnet-${name}`,
          color: "#f7931a",
          ...(options.reportsNodePubkey === false ? {} : { pubkey: ledger.nodePubkey(name) }),
          network: options.network ?? ledger.network(name),
          block_height: 1,
          block_hash: "0".repeat(64),
          methods,
          notifications,
        };
      case "get_balance":
        return { balance: ledger.balance(name) };
      case "make_invoice":
        if (forcedHash !== null) {
          const paymentHash = forcedHash;
          forcedHash = null;
          return ledger.forgeInvoice(name, invoiceRequest(params), paymentHash);
        }
        return ledger.makeInvoice(name, invoiceRequest(params));
      case "make_hold_invoice":
        return ledger.makeHoldInvoice(name, {
          ...invoiceRequest(params),
          paymentHash: str(params.payment_hash),
        });
      case "settle_hold_invoice":
        ledger.settleHoldInvoice(name, str(params.preimage));
        return {};
      case "cancel_hold_invoice":
        ledger.cancelHoldInvoice(name, str(params.payment_hash));
        return {};
      case "lookup_invoice":
        return ledger.lookup(name, {
          ...(typeof params.payment_hash === "string" ? { paymentHash: params.payment_hash } : {}),
          ...(typeof params.invoice === "string" ? { invoice: params.invoice } : {}),
        });
      case "pay_invoice": {
        const amount = optionalNumber(params.amount);
        const tx = await ledger.payInvoice(name, str(params.invoice), amount);
        return { preimage: tx.preimage, fees_paid: tx.fees_paid };
      }
      case "list_transactions":
        return {
          transactions: ledger.listTransactions(name, {
            from: optionalNumber(params.from),
            until: optionalNumber(params.until),
            limit: optionalNumber(params.limit),
            offset: optionalNumber(params.offset),
            unpaid: params.unpaid === true,
            type: typeof params.type === "string" ? params.type : undefined,
          }),
        };
      default:
        throw new LedgerError("OTHER", `unhandled method ${method}`);
    }
  };

  const link: RelayLink = openRelayLink(
    relayUrl,
    [{ kinds: [23194], "#p": [walletPubkey] }],
    (event) => {
      void handle(event);
    },
  );

  const notify = async (n: LedgerNotification) => {
    if (n.wallet !== name || notifications.length === 0) return;
    const body = JSON.stringify({ notification_type: n.type, notification: n.transaction });
    for (const scheme of encryptions) {
      const kind = scheme === "nip44_v2" ? 23197 : 23196;
      await link.publish(sign(kind, [["p", clientPubkey]], encrypt(body, scheme)));
    }
  };
  const unsubscribe = ledger.onNotification((n) => void notify(n));

  const infoTags = [
    ["encryption", encryptions.join(" ")],
    ...(notifications.length > 0 ? [["notifications", notifications.join(" ")]] : []),
  ];
  const info = sign(13194, infoTags, methods.join(" "));
  const ready = (async () => {
    await link.ready();
    if (!(await link.publish(info)))
      throw new Error(`devnet wallet ${name}: relay refused the info event`);
  })();
  ready.catch(() => {});

  const relayParam = encodeURIComponent(relayUrl);
  return {
    name,
    walletPubkey,
    clientPubkey,
    nodePubkey: ledger.nodePubkey(name),
    connectionString: `nostr+walletconnect://${walletPubkey}?relay=${relayParam}&secret=${bytesToHex(clientKey)}`,
    methods,
    faults: {
      setDelay: (ms) => {
        delayMs = Math.max(0, ms);
      },
      setError: (code, message) => {
        fixedError = code === null ? null : { code, message: message ?? `devnet fault: ${code}` };
      },
      setNoReply: (on) => {
        noReply = on;
      },
      setInvoiceHash: (paymentHash) => {
        forcedHash = paymentHash;
      },
    },
    balanceMsat: () => ledger.balance(name),
    fund: (amountMsat) => ledger.fund(name, amountMsat),
    makeInvoice: (request) => ledger.makeInvoice(name, request),
    requestCounts: () => ({ ...requestCounts }),
    ready: () => ready,
    stop() {
      unsubscribe();
      link.close();
    },
  };
}

function parseRequest(plaintext: string): Request {
  const value: unknown = JSON.parse(plaintext);
  if (typeof value !== "object" || value === null) throw new Error("request is not an object");
  const { method, params } = value as { method?: unknown; params?: unknown };
  if (typeof method !== "string") throw new Error("request has no method");
  const record =
    typeof params === "object" && params !== null ? (params as Record<string, unknown>) : {};
  return { method, params: record };
}

function invoiceRequest(params: Record<string, unknown>) {
  const amountMsat = params.amount;
  if (typeof amountMsat !== "number") throw new LedgerError("OTHER", "amount (msat) is required");
  return {
    amountMsat,
    ...(typeof params.description === "string" ? { description: params.description } : {}),
    ...(typeof params.description_hash === "string"
      ? { descriptionHash: params.description_hash }
      : {}),
    ...(typeof params.expiry === "number" ? { expirySecs: params.expiry } : {}),
  };
}

function str(value: unknown): string {
  if (typeof value !== "string")
    throw new LedgerError("OTHER", "a required string parameter is missing");
  return value;
}

function optionalNumber(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}
