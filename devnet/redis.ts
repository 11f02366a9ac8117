import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { connect, createServer } from "node:net";
import { delimiter, join } from "node:path";

/** A Redis the devnet can reach; `stop()` ends it only if the devnet started it. */
export type RedisServer = { url: string; stop(): Promise<void> };

const READY_TIMEOUT_MS = 5_000;
const STOP_TIMEOUT_MS = 2_000;

/** Whether a `redis-server` binary is on PATH. */
export function redisServerAvailable(): boolean {
  return findRedisServer() !== null;
}

/**
 * A Redis to use: `options.url`, else env `REDIS_URL`, else a `redis-server` spawned on a
 * free loopback port; null when none of these exists.
 */
export async function startRedis(options: { url?: string } = {}): Promise<RedisServer | null> {
  const given = options.url || process.env.REDIS_URL;
  if (given) return { url: checkRedisUrl(given), stop: async () => {} };
  const binary = findRedisServer();
  if (binary === null) return null;
  return spawnRedis(binary, await freePort());
}

function checkRedisUrl(url: string): string {
  const parsed = URL.canParse(url) ? new URL(url) : null;
  if (parsed?.protocol !== "redis:" && parsed?.protocol !== "rediss:") {
    throw new Error(`Redis URL must look like redis://host:port, got ${JSON.stringify(url)}`);
  }
  return url;
}

function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, "redis-server");
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not in this PATH entry (or not executable): keep looking.
    }
  }
  return null;
}

/** Port 0 makes the kernel pick a free port; it is released again for redis-server to take. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no TCP port was assigned");
  return address.port;
}

async function spawnRedis(binary: string, port: number): Promise<RedisServer> {
  // No persistence: the devnet's data is throwaway and must not leave dump files behind.
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const child = spawn(binary, [...args, "--daemonize", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-2_000);
  };
  child.stdout?.on("data", keepTail);
  child.stderr?.on("data", keepTail);
  // "close" comes after "exit" once stdio is closed too, so stop() leaves no handle behind;
  // a spawn failure (e.g. EACCES) emits "error" and never "close".
  const exited = new Promise<void>((resolve) => {
    child.once("close", () => resolve());
    child.once("error", (error) => {
      keepTail(Buffer.from(error.message));
      resolve();
    });
  });
  // A devnet Redis must never outlive the process that started it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  const stop = async () => {
    process.off("exit", killOnExit);
    await stopChild(child, exited);
  };
  try {
    await waitUntilReady(port, child);
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`redis-server on port ${port} did not start: ${reason}\n${output}`);
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function waitUntilReady(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.pid === undefined) throw new Error("it could not be spawned");
    if (child.exitCode !== null) throw new Error(`it exited with code ${child.exitCode}`);
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no PONG within ${READY_TIMEOUT_MS} ms`);
}

/** One inline PING over a raw socket: cheaper than a client, and enough to see readiness. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once("error", () => finish(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => finish(data.toString("utf8").startsWith("+PONG")));
  });
}
