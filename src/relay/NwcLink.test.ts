import { describe, expect, it } from "vitest";
import { ProblemError } from "../protocol/Errors.ts";
import type { NwcClient } from "./NwcClient.ts";
import { NwcLink } from "./NwcLink.ts";

/** A stand-in client: only what NwcLink touches (isOpen, close, probe). */
function fakeClient(): NwcClient & { closed: boolean } {
  const client = {
    closed: false,
    get isOpen() {
      return !client.closed;
    },
    close() {
      client.closed = true;
    },
    probe: async () => 5,
  };
  return client as unknown as NwcClient & { closed: boolean };
}

describe("NwcLink", () => {
  it("behavior: concurrent callers share one open, and later calls reuse the socket", async () => {
    let opens = 0;
    const link = new NwcLink({
      now: Date.now,
      open: async () => {
        opens++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return fakeClient();
      },
    });
    const [a, b, c] = await Promise.all([link.client(), link.client(), link.client()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await link.client()).toBe(a);
    expect(opens).toBe(1);
  });

  it("error: after failed opens, callers fail fast with a 503 and Retry-After, and the delay grows", async () => {
    let now = 1_000_000;
    let opens = 0;
    const link = new NwcLink({
      now: () => now,
      open: async () => {
        opens++;
        throw new Error("relay down");
      },
    });
    await expect(link.client()).rejects.toThrow("relay down");
    const first = link.status().retryAt ?? 0;
    expect(first - now).toBeGreaterThanOrEqual(250);
    expect(first - now).toBeLessThanOrEqual(500);
    const fast = await link.client().catch((err: unknown) => err);
    expect(fast).toBeInstanceOf(ProblemError);
    expect((fast as ProblemError).status).toBe(503);
    expect((fast as ProblemError).headers["Retry-After"]).toMatch(/^[0-9]+$/);
    expect(opens).toBe(1);
    now = first;
    await expect(link.client()).rejects.toThrow("relay down");
    expect((link.status().retryAt ?? 0) - now).toBeGreaterThanOrEqual(500);
    expect(opens).toBe(2);
  });

  it("behavior: without backoff every call tries again at once", async () => {
    let opens = 0;
    const link = new NwcLink({
      now: Date.now,
      backoff: false,
      open: async () => {
        opens++;
        throw new Error("down");
      },
    });
    await expect(link.client()).rejects.toThrow("down");
    await expect(link.client()).rejects.toThrow("down");
    expect(opens).toBe(2);
  });

  it("error: a socket that finishes opening after close() is closed and never handed out", async () => {
    const opened = fakeClient();
    let release: () => void = () => {};
    const link = new NwcLink({
      now: Date.now,
      open: () => new Promise((resolve) => (release = () => resolve(opened))),
    });
    const pending = link.client();
    link.close("owner closed");
    release();
    await expect(pending).rejects.toBeInstanceOf(ProblemError);
    expect(opened.closed).toBe(true);
    expect(link.connected).toBe(false);
  });

  it("behavior: a failed ping closes a silent socket so the next call reconnects", async () => {
    const silent = fakeClient();
    silent.probe = async () => {
      throw new Error("no pong");
    };
    let opens = 0;
    const link = new NwcLink({
      now: Date.now,
      open: async () => (++opens === 1 ? silent : fakeClient()),
    });
    await link.client();
    expect(await link.ping(10)).toBe(false);
    expect(silent.closed).toBe(true);
    expect(await link.client()).not.toBe(silent);
    expect(opens).toBe(2);
  });
});
