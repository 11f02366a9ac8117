import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Redis, ReplyError } from "ioredis";

/** A running Upstash-compatible REST endpoint; hand `url` and `token` to `@upstash/redis`. */
export type UpstashServer = { url: string; token: string; stop(): Promise<void> };

type Command = { name: string; args: string[] };
type Json = string | number | null | Json[];
type Outcome = { result: unknown } | { error: string };

const MAX_BODY_BYTES = 1024 * 1024;
const IDLE_TRANSACTION_CONNECTIONS = 4;
const OK = Buffer.from("OK");
// These change the state of the connection they run on (or block it), and connections are
// shared between requests here; MULTI/EXEC come through POST /multi-exec instead.
const UNSUPPORTED = new Set([
  ..."AUTH HELLO SELECT RESET QUIT CLIENT MONITOR SYNC PSYNC SHUTDOWN".split(" "),
  ..."MULTI EXEC DISCARD WATCH UNWATCH".split(" "),
  ..."SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE".split(" "),
  ..."BLPOP BRPOP BRPOPLPUSH BLMOVE BLMPOP BZPOPMIN BZPOPMAX BZMPOP WAIT".split(" "),
]);

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Serves POST /, /pipeline and /multi-exec the way Upstash's REST API does, over a real Redis. */
export async function startUpstash(options: {
  redisUrl: string;
  token?: string;
  port?: number;
  host?: string;
}): Promise<UpstashServer> {
  if (options.token === "") throw new Error("token must not be empty; omit it for a random one");
  const token = options.token ?? randomBytes(16).toString("hex");
  const host = options.host ?? "127.0.0.1";
  const shared = connectRedis(options.redisUrl);
  try {
    await shared.connect();
  } catch (error) {
    shared.disconnect(); // or ioredis keeps reconnecting in the background
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot reach Redis at ${options.redisUrl}: ${reason}`);
  }
  const pool = transactionPool(options.redisUrl);
  const expected = Buffer.from(`Bearer ${token}`);

  const server = createServer((req, res) => {
    handle(req, res, expected, shared, pool).catch((error: unknown) => {
      // Anything but an HttpError is Redis being unreachable (an ioredis message such as
      // "Connection is closed."); passed on because this is local tooling, not the app.
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      // 413 leaves the rest of the body unread: closing is cheaper than draining it.
      if (status === 413) res.setHeader("connection", "close");
      if (!res.headersSent) send(res, status, { error: message });
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, resolve);
    });
  } catch (error) {
    shared.disconnect(); // e.g. EADDRINUSE on a fixed port: leave nothing open behind
    throw error;
  }
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP port was assigned");
  const hostInUrl = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${hostInUrl}:${address.port}`,
    token,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // The SDK keeps sockets alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
      await closed;
      shared.disconnect();
      pool.close();
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  expected: Buffer,
  shared: Redis,
  pool: TransactionPool,
): Promise<void> {
  const given = Buffer.from(req.headers.authorization ?? "");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return send(res, 401, { error: "Unauthorized" });
  }
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path !== "/" && path !== "/pipeline" && path !== "/multi-exec") {
    throw new HttpError(404, `ERR unknown path ${path}: use POST /, /pipeline or /multi-exec`);
  }
  if (req.method !== "POST") throw new HttpError(405, "ERR only POST is supported");
  const body = parseJson(await readBody(req));
  const encoding = req.headers["upstash-encoding"];
  const base64 = typeof encoding === "string" && encoding.toLowerCase() === "base64";

  if (path === "/") {
    const command = toCommand(body);
    const outcome = await runOne(shared, command);
    return send(res, "error" in outcome ? 400 : 200, encode(outcome, base64));
  }
  const commands = toCommands(body);
  const outcomes =
    path === "/pipeline"
      ? await runBatch(shared.pipeline(), commands)
      : await pool.use((connection) => runBatch(connection.multi(), commands));
  send(
    res,
    200,
    outcomes.map((outcome) => encode(outcome, base64)),
  );
}

async function runOne(redis: Redis, { name, args }: Command): Promise<Outcome> {
  try {
    return { result: await redis.callBuffer(name, ...args) };
  } catch (error) {
    if (isReplyError(error)) return { error: error.message };
    throw error;
  }
}

/** Runs a pipeline or a MULTI/EXEC; an EXECABORT rejects, which the caller turns into a 400. */
async function runBatch(batch: ReturnType<Redis["pipeline"]>, commands: Command[]) {
  for (const { name, args } of commands) batch.callBuffer(name, ...args);
  let rows: [error: Error | null, result: unknown][] | null;
  try {
    rows = await batch.exec();
  } catch (error) {
    if (isReplyError(error)) throw new HttpError(400, error.message);
    throw error;
  }
  // exec() resolves null only when a WATCHed key changed, and WATCH is refused above.
  if (rows === null) throw new HttpError(400, "EXECABORT transaction aborted");
  return rows.map(([error, result]): Outcome => (error ? { error: error.message } : { result }));
}

/**
 * A reply as Upstash sends it. With base64, `@upstash/redis` (decode() in
 * chunk-4WQYU7T6.mjs) base64-decodes every string except a top-level "OK", inside arrays
 * too, and passes numbers and null through; so encode all other strings the same way.
 */
function encode(outcome: Outcome, base64: boolean): { result: Json } | { error: string } {
  if ("error" in outcome) return outcome;
  const toJson = (reply: unknown, top: boolean): Json => {
    if (reply === null || reply === undefined) return null;
    if (typeof reply === "number") return reply;
    if (Array.isArray(reply)) return reply.map((item) => toJson(item, false));
    // ioredis hands strings over as Buffers (callBuffer), so binary values survive to here.
    const bytes = Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply));
    if (!base64 || (top && bytes.equals(OK))) return bytes.toString("utf8");
    return bytes.toString("base64");
  };
  return { result: toJson(outcome.result, true) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, "ERR request body is over 1 MiB");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (!Buffer.isBuffer(chunk)) continue;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "ERR request body is over 1 MiB");
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'ERR body must be JSON, such as ["SET","key","value"]');
  }
}

function toCommands(body: unknown): Command[] {
  if (!Array.isArray(body) || body.length === 0) {
    throw new HttpError(
      400,
      'ERR body must be a non-empty array of commands, such as [["GET","k"]]',
    );
  }
  return body.map(toCommand);
}

function toCommand(value: unknown): Command {
  const [name, ...rest]: unknown[] = Array.isArray(value) ? value : [];
  if (typeof name !== "string" || name === "") {
    throw new HttpError(400, 'ERR a command must be an array such as ["SET","key","value"]');
  }
  const args = rest.map((arg) => {
    if (typeof arg === "string") return arg;
    if (typeof arg === "number" || typeof arg === "boolean") return String(arg);
    throw new HttpError(400, "ERR command arguments must be strings, numbers or booleans");
  });
  if (UNSUPPORTED.has(name.toUpperCase())) {
    throw new HttpError(400, `ERR ${name} is not supported by the devnet Upstash stand-in`);
  }
  return { name, args };
}

/** An error Redis itself answered with, as opposed to a failed connection. */
function isReplyError(error: unknown): error is Error {
  return error instanceof ReplyError;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function connectRedis(url: string): Redis {
  // RESP2 replies are what Upstash's REST API mirrors; few retries so a dead Redis fails fast.
  const redis = new Redis(url, { protocol: 2, lazyConnect: true, maxRetriesPerRequest: 1 });
  // Failures reach callers through their rejected commands; the event would only be noise.
  redis.on("error", () => {});
  return redis;
}

type TransactionPool = { use<T>(run: (redis: Redis) => Promise<T>): Promise<T>; close(): void };

/**
 * MULTI state belongs to a connection, so each transaction borrows a connection of its own
 * and concurrent /multi-exec requests cannot interleave their commands.
 */
function transactionPool(url: string): TransactionPool {
  const idle: Redis[] = [];
  const open = new Set<Redis>();
  return {
    async use(run) {
      const redis = idle.pop() ?? connectRedis(url);
      open.add(redis);
      // An EXECABORT (an HttpError) leaves the connection clean; a failed one may not be.
      let clean = false;
      try {
        const result = await run(redis);
        clean = true;
        return result;
      } catch (error) {
        clean = error instanceof HttpError;
        throw error;
      } finally {
        if (clean && idle.length < IDLE_TRANSACTION_CONNECTIONS) idle.push(redis);
        else {
          open.delete(redis);
          redis.disconnect();
        }
      }
    },
    close() {
      for (const redis of open) redis.disconnect();
      open.clear();
      idle.length = 0;
    },
  };
}
