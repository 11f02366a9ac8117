import { type Context, Hono } from "hono";
import {
  BadRequestError,
  NotFoundError,
  UnauthorizedError,
  UnavailableError,
} from "../../protocol/Errors.ts";
import { parseConnectionString } from "../../protocol/nip47/ConnectionString.ts";
import type { Env } from "../env.ts";
import type { WalletStatus } from "../merchant/MerchantDO.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import {
  authenticate,
  createMerchant,
  deleteMerchant,
  type MerchantRecord,
  updateMerchant,
} from "../registry.ts";
import { bearerToken, clientIp, enforceLimit, readJsonObject } from "../request.ts";
import { hashApiKey, newApiKey, newMerchantId } from "../secrets.ts";

/** Registration and merchant management. */
export const merchantRoutes = new Hono<Env>();

/** `nwcUrl`, or `nwcSecret` (the name early users know). */
function nwcUrlFrom(body: Record<string, unknown>): string {
  const value = body.nwcUrl ?? body.nwcSecret;
  if (typeof value !== "string" || value.trim() === "") {
    throw new BadRequestError(
      'Send { "nwcUrl": "nostr+walletconnect://<wallet pubkey>?relay=wss://…&secret=…" }.',
    );
  }
  return value.trim();
}

merchantRoutes.post("/register", async (c) => {
  await enforceLimit(
    c.env.REGISTER_LIMIT,
    `register:${clientIp(c)}`,
    "registrations from this address",
  );
  const nwcUrl = nwcUrlFrom(await readJsonObject(c));
  // Refuse a bad string here, before any Durable Object is touched for it.
  parseConnectionString(nwcUrl, { allowInsecureRelays: c.var.config.allowInsecureRelays });
  const merchantId = newMerchantId();
  const stub = merchantStub(c.env, merchantId);
  const wallet = unwrap(await stub.setupWallet({ merchantId, nwcUrl }));
  const apiKey = newApiKey();
  const now = Math.floor(Date.now() / 1000);
  const record: MerchantRecord = {
    merchantId,
    apiKeyHash: hashApiKey(apiKey),
    settings: { publicInvoices: false, exclusiveNodeKey: false },
    createdAt: now,
    updatedAt: now,
  };
  try {
    if (!(await createMerchant(c.var.store, record))) throw new Error("merchant id collision");
  } catch (err) {
    await stub.forget(); // nothing half-registered stays behind
    throw err instanceof UnavailableError
      ? err
      : new UnavailableError(
          "store-unavailable",
          "Store unavailable",
          "Could not save the registration. Nothing was stored; try again.",
        );
  }
  return c.json(
    { merchantId, apiKey, network: wallet.network, capabilities: wallet.capabilities },
    201,
  );
});

/** Loads the merchant named in the path, authenticated by its API key. */
export async function requireMerchant(c: Context<Env>) {
  const merchantId = c.req.param("id") ?? "";
  const found = await authenticate(c.var.store, merchantId, bearerToken(c));
  if (!found)
    throw new UnauthorizedError(
      "Send this merchant's API key as `Authorization: Bearer <apiKey>`.",
    );
  return found;
}

function merchantView(record: MerchantRecord, status: WalletStatus) {
  return {
    merchantId: record.merchantId,
    network: status.network,
    walletPubkey: status.walletPubkey,
    nodePubkey: status.nodePubkey,
    relays: status.relays,
    capabilities: status.capabilities,
    settings: record.settings,
    publicInvoices: record.settings.publicInvoices,
    connection: status.connection,
    invoices: status.invoices,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

merchantRoutes.get("/merchants/:id", async (c) => {
  const record = await requireMerchant(c);
  const status = unwrap(await merchantStub(c.env, record.merchantId).walletStatus());
  return c.json(merchantView(record, status));
});

/** Settings: `{ publicInvoices?: boolean }`; unknown fields are refused. */
merchantRoutes.patch("/merchants/:id", async (c) => {
  const record = await requireMerchant(c);
  const body = await readJsonObject(c);
  const unknown = Object.keys(body).filter((k) => k !== "publicInvoices");
  if (unknown.length > 0)
    throw new BadRequestError(
      `Unknown settings: ${unknown.join(", ")}. Send { "publicInvoices": true | false }.`,
    );
  if (body.publicInvoices !== undefined && typeof body.publicInvoices !== "boolean")
    throw new BadRequestError("publicInvoices must be true or false.");
  const updated = await updateMerchant(c.var.store, record.merchantId, (current) => ({
    ...current,
    settings: {
      ...current.settings,
      ...(typeof body.publicInvoices === "boolean" ? { publicInvoices: body.publicInvoices } : {}),
    },
    updatedAt: Math.floor(Date.now() / 1000),
  }));
  if (!updated) throw new NotFoundError("The merchant was deleted meanwhile.");
  const status = unwrap(await merchantStub(c.env, record.merchantId).walletStatus());
  return c.json(merchantView(updated, status));
});

merchantRoutes.delete("/merchants/:id", async (c) => {
  const record = await requireMerchant(c);
  await merchantStub(c.env, record.merchantId).forget();
  await deleteMerchant(c.var.store, record.merchantId);
  return c.body(null, 204);
});

merchantRoutes.post("/merchants/:id/rotate-key", async (c) => {
  const record = await requireMerchant(c);
  const apiKey = newApiKey();
  const apiKeyHash = hashApiKey(apiKey);
  // Compare-and-swap on the record read at authentication: a concurrent rotation (or
  // any other change) makes this one fail rather than hand out a key that is not stored.
  let stale = false;
  const updated = await updateMerchant(c.var.store, record.merchantId, (current) => {
    if (current.apiKeyHash !== record.apiKeyHash) stale = true;
    return stale ? current : { ...current, apiKeyHash, updatedAt: Math.floor(Date.now() / 1000) };
  });
  if (!updated || stale || updated.apiKeyHash !== apiKeyHash) {
    throw new UnavailableError(
      "conflict",
      "Concurrent change",
      "The key was rotated by another request meanwhile; this rotation changed nothing. Use the newest key.",
    );
  }
  return c.json({ merchantId: record.merchantId, apiKey });
});

merchantRoutes.put("/merchants/:id/wallet", async (c) => {
  const record = await requireMerchant(c);
  const nwcUrl = nwcUrlFrom(await readJsonObject(c));
  // Refuse a bad string here, before any Durable Object is touched for it.
  parseConnectionString(nwcUrl, { allowInsecureRelays: c.var.config.allowInsecureRelays });
  // The wallet's facts live in its Durable Object, which switches atomically; the
  // registry only learns when the merchant last changed.
  const wallet = unwrap(
    await merchantStub(c.env, record.merchantId).setupWallet({
      merchantId: record.merchantId,
      nwcUrl,
    }),
  );
  await updateMerchant(c.var.store, record.merchantId, (current) => ({
    ...current,
    updatedAt: Math.floor(Date.now() / 1000),
  }));
  return c.json({
    merchantId: record.merchantId,
    network: wallet.network,
    nodePubkey: wallet.nodePubkey,
    capabilities: wallet.capabilities,
  });
});
