import { bytesToHex } from "@noble/hashes/utils.js";
import * as nip44 from "nostr-tools/nip44";
import { finalizeEvent, generateSecretKey, getPublicKey } from "nostr-tools/pure";
import { describe, expect, it } from "vitest";
import { NwcResponseError } from "../protocol/nip47/Messages.ts";
import { NwcClient, type NwcClientOptions } from "./NwcClient.ts";
import type { RelayEvent } from "./RelaySocket.ts";

/**
 * NwcClient behind a scripted relay, passed in as its WebSocket: the relay here is
 * hostile or odd on purpose (forged events, answers out of order or before OK, closed
 * subscriptions), which no honest relay would let a test arrange. The devnet suites
 * (test/workers/nwc-client.test.ts) cover the client against real peers.
 */

type Frame = unknown[];

/** A relay in memory that answers NIP-01 frames as each test scripts. */
class ScriptedRelay {
  readonly walletKey = generateSecretKey();
  readonly walletPubkey = getPublicKey(this.walletKey);
  readonly clientKey = generateSecretKey();
  readonly clientPubkey = getPublicKey(this.clientKey);
  readonly sent: Frame[] = [];
  infoEvents: RelayEvent[] = [this.sign(13194, [["encryption", "nip44_v2"]], "get_balance")];
  subscription: string | null = null;
  /** What the relay does with a request event after (or instead of) its OK. */
  onRequest: (event: RelayEvent) => void = () => {};
  okFirst = true;
  okVerdict: [boolean, string] = [true, ""];
  private emit: (frame: Frame) => void = () => {};

  /** The WebSocket class the client is given: every instance talks to this relay. */
  get WebSocket(): typeof WebSocket {
    const relay = this;
    return class {
      private readonly listeners = new Map<string, Array<(event: unknown) => void>>();
      constructor() {
        // Frames arrive asynchronously, as from a real socket.
        relay.emit = (frame) =>
          queueMicrotask(() => this.dispatch("message", { data: JSON.stringify(frame) }));
        queueMicrotask(() => this.dispatch("open", {}));
      }
      addEventListener(type: string, listener: (event: unknown) => void) {
        this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
      }
      send(data: string) {
        relay.receive(JSON.parse(data) as Frame);
      }
      close() {}
      private dispatch(type: string, event: unknown) {
        for (const listener of this.listeners.get(type) ?? []) listener(event);
      }
    } as unknown as typeof WebSocket;
  }

  sign(
    kind: number,
    tags: string[][],
    content: string,
    key = this.walletKey,
    createdAt = Math.floor(Date.now() / 1000),
  ): RelayEvent {
    return finalizeEvent({ kind, created_at: createdAt, tags, content }, key);
  }

  /** A response to `requestId` with `body`, encrypted and signed by `key` (the wallet's by default). */
  response(requestId: string, body: unknown, key = this.walletKey): RelayEvent {
    const conversation = nip44.v2.utils.getConversationKey(key, this.clientPubkey);
    const content = nip44.v2.encrypt(JSON.stringify(body), conversation);
    return this.sign(
      23195,
      [
        ["p", this.clientPubkey],
        ["e", requestId],
      ],
      content,
      key,
    );
  }

  deliver(event: RelayEvent): void {
    this.emit(["EVENT", this.subscription, event]);
  }

  closeSubscription(reason: string): void {
    this.emit(["CLOSED", this.subscription, reason]);
  }

  connect(options: NwcClientOptions = {}): Promise<NwcClient> {
    const conn = { walletPubkey: this.walletPubkey, relays: ["wss://scripted.example"] };
    return NwcClient.connect(
      { ...conn, secret: bytesToHex(this.clientKey) },
      { requestTimeoutMs: 1_000, WebSocket: this.WebSocket, ...options },
    );
  }

  private receive(frame: Frame): void {
    this.sent.push(frame);
    const [verb, subId, payload] = frame as [string, string, { kinds?: number[] } & RelayEvent];
    if (verb === "REQ" && payload.kinds?.includes(13194)) {
      for (const event of this.infoEvents) this.emit(["EVENT", subId, event]);
    } else if (verb === "REQ" && payload.kinds?.includes(23195)) this.subscription = subId;
    if (verb === "REQ") this.emit(["EOSE", subId]);
    if (verb !== "EVENT") return;
    const request = frame[1] as RelayEvent;
    if (!this.okFirst) this.onRequest(request);
    this.emit(["OK", request.id, ...this.okVerdict]);
    if (this.okFirst) this.onRequest(request);
  }
}

const balance = (n: number) => ({
  result_type: "get_balance",
  error: null,
  result: { balance: n },
});

async function rejection(promise: Promise<unknown>): Promise<Error & { type?: string }> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (err: Error) => err,
  );
}

describe("NwcClient behind a scripted relay", () => {
  it("security: answers not signed by the wallet are ignored; the genuine one resolves the call", async () => {
    const relay = new ScriptedRelay();
    relay.onRequest = (request) => {
      relay.deliver(relay.response(request.id, balance(666), generateSecretKey()));
      const genuine = relay.response(request.id, balance(777));
      relay.deliver({ ...genuine, content: relay.response(request.id, balance(778)).content });
      relay.deliver(relay.response("ff".repeat(32), balance(779)));
      relay.deliver(relay.response(request.id, balance(42)));
    };
    const client = await relay.connect();
    expect(await client.getBalance()).toEqual({ balanceMsat: 42 });
  });

  it("behavior: responses arriving out of order reach their own requests (by e tag)", async () => {
    const relay = new ScriptedRelay();
    const held: RelayEvent[] = [];
    relay.onRequest = (request) => {
      held.push(request);
      if (held.length === 3)
        for (const [i, r] of [...held.entries()].reverse())
          relay.deliver(relay.response(r.id, balance(i)));
    };
    const client = await relay.connect();
    const results = await Promise.all([
      client.getBalance(),
      client.getBalance(),
      client.getBalance(),
    ]);
    expect(results.map((r) => r.balanceMsat)).toEqual([0, 1, 2]);
  });

  it("behavior: a response that overtakes the relay's OK still resolves", async () => {
    const relay = new ScriptedRelay();
    relay.okFirst = false;
    relay.onRequest = (request) => relay.deliver(relay.response(request.id, balance(5)));
    expect(await (await relay.connect()).getBalance()).toEqual({ balanceMsat: 5 });
  });

  it("security: nothing sent to the relay carries the secret or the plaintext request", async () => {
    const relay = new ScriptedRelay();
    const refusal = { result_type: "make_invoice", error: { code: "RESTRICTED", message: "" } };
    relay.onRequest = (request) => relay.deliver(relay.response(request.id, refusal));
    const client = await relay.connect();
    const err = await rejection(
      client.makeInvoice({ amountMsat: 1_234, description: "plain words" }),
    );
    expect(err).toMatchObject({ code: "RESTRICTED" });
    const wire = JSON.stringify(relay.sent);
    expect(wire).not.toContain(bytesToHex(relay.clientKey));
    expect(wire).not.toContain("plain words");
    const request = relay.sent.find((f) => f[0] === "EVENT")?.[1] as RelayEvent;
    expect(request.tags).toEqual([
      ["p", relay.walletPubkey],
      ["encryption", "nip44_v2"],
      ["expiration", expect.stringMatching(/^\d+$/)],
    ]);
  });

  it("behavior: the newest info event signed by the wallet decides; a forged one is ignored", async () => {
    const relay = new ScriptedRelay();
    const older = relay.sign(13194, [], "get_info", relay.walletKey, 1);
    const newer = relay.sign(13194, [["encryption", "nip44_v2 nip04"]], "get_info make_invoice");
    const forged = { ...newer, created_at: newer.created_at + 10, tags: [] };
    relay.infoEvents = [older, forged, newer];
    const client = await relay.connect();
    expect(client.info).toMatchObject({
      methods: ["get_info", "make_invoice"],
      encryption: "nip44_v2",
    });
  });

  it("error: a wallet offering no encryption ln402 speaks is a 422 at connect", async () => {
    const relay = new ScriptedRelay();
    relay.infoEvents = [relay.sign(13194, [["encryption", "nip44_v3"]], "get_info")];
    const err = await rejection(relay.connect());
    expect(err.type).toBe("urn:ln402:problem:wallet-encryption-unsupported");
    expect(err.message).toContain("offers nip44_v3");
  });

  it("error: a relay that answers OK false fails the call at once with 503 relay-refused", async () => {
    const relay = new ScriptedRelay();
    relay.okVerdict = [false, "blocked: no ephemeral events"];
    const err = await rejection((await relay.connect()).getBalance({ timeoutMs: 60_000 }));
    expect(err.type).toBe("urn:ln402:problem:relay-refused");
    expect(err.message).toContain("blocked: no ephemeral events");
  });

  it("error: a signed response that does not decrypt is a 502 NwcResponseError", async () => {
    const relay = new ScriptedRelay();
    relay.onRequest = (request) => {
      relay.deliver(relay.sign(23195, [["e", request.id]], "AgAAAAAAAAAAnotnip44"));
    };
    const err = await rejection((await relay.connect()).getBalance());
    expect(err).toBeInstanceOf(NwcResponseError);
    expect(err.message).toContain("could not be decrypted");
  });

  it("error: when the relay ends the subscription, pending calls fail, onClose fires once, later calls fail at once", async () => {
    const relay = new ScriptedRelay();
    const reasons: string[] = [];
    const client = await relay.connect({ onClose: (reason) => reasons.push(reason) });
    const pending = rejection(client.getBalance({ timeoutMs: 60_000 }));
    relay.closeSubscription("error: shutting down");
    expect((await pending).type).toBe("urn:ln402:problem:relay-unavailable");
    expect(client.isOpen).toBe(false);
    expect(reasons).toEqual([
      expect.stringContaining("ended the subscription: error: shutting down"),
    ]);
    expect((await rejection(client.getInfo())).message).toContain("Reconnect");
  });

  it("behavior: notifications are subscribed to only when someone listens", async () => {
    const quiet = new ScriptedRelay();
    await quiet.connect();
    const listening = new ScriptedRelay();
    await listening.connect({ onNotification: () => {} });
    const kinds = (r: ScriptedRelay) => {
      const req = r.sent.find((f) => f[0] === "REQ" && f[1] === r.subscription);
      return (req?.[2] as { kinds?: number[] } | undefined)?.kinds;
    };
    expect(kinds(quiet)).toEqual([23195]);
    expect(kinds(listening)).toEqual([23195, 23197]);
  });
});
