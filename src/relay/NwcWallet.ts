import * as nip04 from "nostr-tools/nip04";
import * as nip44 from "nostr-tools/nip44";
import { finalizeEvent, verifyEvent } from "nostr-tools/pure";
import { UnavailableError, UnprocessableError } from "../protocol/Errors.ts";
import {
  chooseEncryption,
  type NwcEncryption,
  NwcResponseError,
  parseInfoEvent,
  type WalletInfo,
} from "../protocol/nip47/Messages.ts";
import type { RelayEvent, RelaySocket } from "./RelaySocket.ts";

/**
 * The wallet's side of `NwcClient`: the info event it starts from, the encryption of
 * every message, signature checks on everything the wallet sends, and the 503 problems
 * for a wallet or relay that stays silent.
 */

/** What the wallet's info event announced, and the encryption chosen from it. */
export type NwcInfo = WalletInfo & { encryption: NwcEncryption };

/** NIP-47 §events. */
export const KIND = {
  info: 13194,
  request: 23194,
  response: 23195,
  nip04Note: 23196,
  nip44Note: 23197,
} as const;

/** NIP-44 caps plaintext at 64 KiB; NIP-04 has no cap, so we set one before decrypting. */
const MAX_CONTENT_CHARS = 256 * 1024;

/** Encrypts requests in the chosen scheme; decrypts what the wallet sends. Holds key material. */
export type NwcCipher = {
  encrypt(plaintext: string): string;
  /** Throws `NwcResponseError` naming `what` when the content cannot be decrypted. */
  decrypt(content: string, what: string): string;
};

/**
 * A cipher for one client key and wallet. Wallets answer in the request's encryption
 * (NIP-47 §encryption) and notifications come in either, so decryption goes by the
 * content's form: NIP-04 payloads carry `?iv=`, NIP-44 v2 payloads are plain base64.
 */
export function nwcCipher(
  secretKey: Uint8Array,
  walletPubkey: string,
  encryption: NwcEncryption,
): NwcCipher {
  const conversationKey = nip44.v2.utils.getConversationKey(secretKey, walletPubkey);
  return {
    encrypt: (plaintext) =>
      encryption === "nip44_v2"
        ? nip44.v2.encrypt(plaintext, conversationKey)
        : nip04.encrypt(secretKey, walletPubkey, plaintext),
    decrypt(content, what) {
      if (content.length > MAX_CONTENT_CHARS)
        throw new NwcResponseError(what, `it is longer than ${MAX_CONTENT_CHARS} characters`);
      try {
        return content.includes("?iv=")
          ? nip04.decrypt(secretKey, walletPubkey, content)
          : nip44.v2.decrypt(content, conversationKey);
      } catch {
        throw new NwcResponseError(what, "it could not be decrypted");
      }
    },
  };
}

/** A signed request event (kind 23194, NIP-47 §request) carrying `content`, already encrypted. */
export function signRequest(
  content: string,
  to: { walletPubkey: string; info: { encryption: NwcEncryption } },
  secretKey: Uint8Array,
  timeoutMs: number,
): RelayEvent {
  const now = Date.now();
  const tags = [
    ["p", to.walletPubkey],
    ["encryption", to.info.encryption],
    // NIP-47 §request: a wallet ignores a request past its expiration, so one the
    // client stopped waiting for is never carried out (or paid) late.
    ["expiration", String(Math.ceil((now + timeoutMs) / 1000))],
  ];
  const template = { kind: KIND.request, created_at: Math.floor(now / 1000), tags, content };
  return finalizeEvent(template, secretKey);
}

/** Reads the newest info event signed by the wallet (kind 13194 is replaceable). */
export async function readWalletInfo(
  socket: RelaySocket,
  walletPubkey: string,
  timeoutMs: number,
): Promise<NwcInfo> {
  const filter = { kinds: [KIND.info], authors: [walletPubkey], limit: 1 };
  const [event] = (await socket.query([filter], timeoutMs))
    .filter((e) => e.kind === KIND.info && e.pubkey === walletPubkey && isSigned(e))
    .sort((a, b) => b.created_at - a.created_at);
  if (!event)
    throw new UnprocessableError(
      "wallet-info-missing",
      "Wallet not found on its relay",
      `Relay ${socket.url} has no info event (kind ${KIND.info}) from wallet ${walletPubkey}: check the connection string's pubkey and relay, and that the wallet service is running.`,
    );
  const announced = parseInfoEvent(event);
  const encryption = chooseEncryption(announced.encryptions);
  if (!encryption)
    throw new UnprocessableError(
      "wallet-encryption-unsupported",
      "Wallet encryption unsupported",
      `The wallet offers ${announced.encryptions.join(", ") || "no encryption"}; ln402 speaks nip44_v2 and nip04.`,
    );
  return { ...announced, encryption };
}

/** `verifyEvent` throws on some malformed fields (it serializes first); that is a bad signature too. */
export function isSigned(event: RelayEvent): boolean {
  try {
    return verifyEvent(event);
  } catch {
    return false;
  }
}

/** 503: the socket is gone; the owner must reconnect. */
export function connectionDown(reason: string): UnavailableError {
  return new UnavailableError(
    "relay-unavailable",
    "Wallet relay unavailable",
    `The wallet connection is down (${reason}). Reconnect and try again.`,
  );
}

/** 503: the relay took the request, the wallet never answered. */
export function walletTimeout(method: string, timeoutMs: number): UnavailableError {
  return new UnavailableError(
    "wallet-timeout",
    "Wallet did not answer",
    `The wallet did not answer ${method} within ${timeoutMs / 1000} s. Either the wallet service is offline (try again later), or it does not know this connection (a revoked or mistyped connection string: wallets ignore requests signed with a secret they did not issue).`,
  );
}

/** 503: the relay never acknowledged the request (half-open, or overloaded). */
export function noAck(relayUrl: string): UnavailableError {
  return new UnavailableError(
    "relay-unavailable",
    "Wallet relay unavailable",
    `Relay ${relayUrl} did not acknowledge the request; the connection may be half-open.`,
  );
}

/** 503: the relay answered OK false. */
export function relayRefused(relayUrl: string, message: string): UnavailableError {
  return new UnavailableError(
    "relay-refused",
    "Wallet relay refused the request",
    `Relay ${relayUrl} refused the request (${message.slice(0, 200) || "no reason given"}).`,
  );
}
