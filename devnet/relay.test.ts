import { finalizeEvent, generateSecretKey, type NostrEvent } from "nostr-tools/pure";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type DevnetRelay, startRelay } from "./relay.ts";

/** A raw NIP-01 client: every frame the relay sends, in order. */
type Peer = {
  ws: WebSocket;
  frames: unknown[][];
  next(match: (f: unknown[]) => boolean, ms?: number): Promise<unknown[]>;
};

let relay: DevnetRelay;
const peers: Peer[] = [];
const key = generateSecretKey();

async function connect(): Promise<Peer> {
  const ws = new WebSocket(relay.url);
  const frames: unknown[][] = [];
  const waiters: Array<{ match: (f: unknown[]) => boolean; resolve: (f: unknown[]) => void }> = [];
  ws.on("message", (data) => {
    const frame = JSON.parse(data.toString()) as unknown[];
    frames.push(frame);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(frame)) waiter.resolve(frame);
      else waiters.push(waiter);
    }
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const peer: Peer = {
    ws,
    frames,
    next(match, ms = 2000) {
      const seen = frames.find(match);
      if (seen) {
        frames.splice(frames.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no matching frame")), ms);
        waiters.push({
          match,
          resolve: (f) => {
            clearTimeout(timer);
            frames.splice(frames.indexOf(f), 1);
            resolve(f);
          },
        });
      });
    },
  };
  peers.push(peer);
  return peer;
}

function event(
  kind: number,
  content = "",
  tags: string[][] = [],
  createdAt = Math.floor(Date.now() / 1000),
): NostrEvent {
  // A JSON copy: what travels on the wire (finalizeEvent adds a non-JSON marker symbol).
  return JSON.parse(
    JSON.stringify(finalizeEvent({ kind, content, tags, created_at: createdAt }, key)),
  );
}

const ok = (id: string) => (f: unknown[]) => f[0] === "OK" && f[1] === id;
const eose = (sub: string) => (f: unknown[]) => f[0] === "EOSE" && f[1] === sub;

async function publish(peer: Peer, e: NostrEvent): Promise<unknown[]> {
  peer.ws.send(JSON.stringify(["EVENT", e]));
  return peer.next(ok(e.id));
}

async function query(peer: Peer, sub: string, filter: object): Promise<NostrEvent[]> {
  peer.ws.send(JSON.stringify(["REQ", sub, filter]));
  await peer.next(eose(sub));
  const events = peer.frames
    .filter((f) => f[0] === "EVENT" && f[1] === sub)
    .map((f) => f[2] as NostrEvent);
  peer.frames.splice(
    0,
    peer.frames.length,
    ...peer.frames.filter((f) => !(f[0] === "EVENT" && f[1] === sub)),
  );
  return events;
}

beforeAll(async () => {
  relay = await startRelay();
});
afterEach(() => {
  relay.faults.setHalfOpen(false);
  relay.faults.setDelay(0);
  relay.faults.refusePublishes(null);
  relay.faults.setLatency(0);
  for (const peer of peers.splice(0)) peer.ws.terminate();
});
afterAll(async () => {
  await relay.stop();
});

describe("devnet relay (NIP-01)", () => {
  it("behavior: accepts a signed event with OK true and returns it to a later REQ before EOSE", async () => {
    const peer = await connect();
    const note = event(1, "hello");
    expect(await publish(peer, note)).toEqual(["OK", note.id, true, ""]);
    expect(await query(peer, "s1", { ids: [note.id] })).toEqual([note]);
  });

  it("error: refuses an event whose signature does not verify", async () => {
    const peer = await connect();
    const forged = { ...event(1, "never stored"), content: "tampered" };
    const [, , accepted, reason] = await publish(peer, forged);
    expect(accepted).toBe(false);
    expect(String(reason)).toMatch(/^invalid:/);
    expect(await query(peer, "s2", { ids: [forged.id] })).toEqual([]);
  });

  it("behavior: fans events out live to matching subscriptions only, until CLOSE", async () => {
    const [listener, other, author] = [await connect(), await connect(), await connect()];
    await query(listener, "live", { kinds: [23194], "#p": ["aa"] });
    await query(other, "other", { kinds: [23194], "#p": ["bb"] });
    const first = event(23194, "x", [["p", "aa"]]);
    await publish(author, first);
    expect(await listener.next((f) => f[0] === "EVENT")).toEqual(["EVENT", "live", first]);

    listener.ws.send(JSON.stringify(["CLOSE", "live"]));
    const marker = event(1, "marker");
    await publish(listener, marker); // the relay handles a client's frames in order
    await publish(author, event(23194, "y", [["p", "aa"]]));
    await expect(listener.next((f) => f[0] === "EVENT", 200)).rejects.toThrow("no matching frame");
    expect(other.frames.filter((f) => f[0] === "EVENT")).toEqual([]);
  });

  it("behavior: never stores ephemeral kinds", async () => {
    const peer = await connect();
    const request = event(23194, "secret request", [["p", "cc"]]);
    expect((await publish(peer, request))[2]).toBe(true);
    expect(await query(peer, "eph", { ids: [request.id] })).toEqual([]);
  });

  it("behavior: keeps only the newest replaceable event per pubkey and kind", async () => {
    const peer = await connect();
    const now = Math.floor(Date.now() / 1000);
    const older = event(13194, "get_info", [], now - 10);
    const newer = event(13194, "get_info make_invoice", [], now);
    await publish(peer, newer);
    const [, , acceptedOlder] = await publish(peer, older);
    expect(acceptedOlder).toBe(true);
    expect(await query(peer, "info", { kinds: [13194], authors: [newer.pubkey] })).toEqual([newer]);
  });
});

describe("devnet relay faults", () => {
  it("behavior: dropAll closes every connection", async () => {
    const peer = await connect();
    const closed = new Promise((resolve) => peer.ws.once("close", resolve));
    relay.faults.dropAll();
    await closed;
    expect(relay.connectionCount()).toBe(0);
  });

  it("behavior: a half-open relay keeps the socket but answers nothing, not even pings", async () => {
    const peer = await connect();
    relay.faults.setHalfOpen(true);
    let ponged = false;
    peer.ws.on("pong", () => {
      ponged = true;
    });
    peer.ws.ping();
    peer.ws.send(JSON.stringify(["REQ", "dead", { kinds: [1] }]));
    await expect(peer.next(eose("dead"), 300)).rejects.toThrow("no matching frame");
    expect(ponged).toBe(false);
    expect(peer.ws.readyState).toBe(WebSocket.OPEN);

    relay.faults.setHalfOpen(false);
    const pong = new Promise((resolve) => peer.ws.once("pong", resolve));
    peer.ws.ping();
    await pong;
  });

  it("behavior: delay postpones every answer", async () => {
    const peer = await connect();
    relay.faults.setDelay(250);
    const started = performance.now();
    await query(peer, "slow", { kinds: [1], limit: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(240);
  });

  it("behavior: latency delays each frame both ways and the connection set-up by three round trips", async () => {
    relay.faults.setLatency(50);
    const opening = performance.now();
    const peer = await connect();
    expect(performance.now() - opening).toBeGreaterThanOrEqual(290);
    const started = performance.now();
    await query(peer, "far", { kinds: [1], limit: 1 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    relay.faults.setLatency(0);
  });

  it("behavior: refused publishes get OK false with the reason and are not stored", async () => {
    const peer = await connect();
    relay.faults.refusePublishes("devnet maintenance");
    const note = event(1, "refused");
    expect(await publish(peer, note)).toEqual([
      "OK",
      note.id,
      false,
      "blocked: devnet maintenance",
    ]);
    relay.faults.refusePublishes(null);
    expect(await query(peer, "r", { ids: [note.id] })).toEqual([]);
  });

  it("error: malformed frames get a NOTICE and the connection stays usable", async () => {
    const peer = await connect();
    peer.ws.send("not json");
    expect((await peer.next((f) => f[0] === "NOTICE"))[1]).toMatch(/not JSON/);
    peer.ws.send(JSON.stringify({ verb: "EVENT" }));
    expect((await peer.next((f) => f[0] === "NOTICE"))[1]).toMatch(/JSON array/);
    expect(await query(peer, "after", { kinds: [1], limit: 1 })).toHaveLength(1);
  });
});
