import { type Context, Hono } from "hono";
import { BadRequestError, UnauthorizedError, UnavailableError } from "../../protocol/Errors.ts";
import { parseConnectionString } from "../../protocol/nip47/ConnectionString.ts";
import type { Env } from "../env.ts";
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
    network: wallet.network,
    walletPubkey: wallet.walletPubkey,
    capabilities: wallet.capabilities,
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
async function requireMerchant(c: Context<Env>) {
  const merchantId = c.req.param("id") ?? "";
  const found = await authenticate(c.var.store, merchantId, bearerToken(c));
  if (!found)
    throw new UnauthorizedError(
      "Send this merchant's API key as `Authorization: Bearer <apiKey>`.",
    );
  return found;
}

merchantRoutes.get("/merchants/:id", async (c) => {
  const { record } = await requireMerchant(c);
  const status = unwrap(await merchantStub(c.env, record.merchantId).walletStatus());
  return c.json({
    merchantId: record.merchantId,
    network: status.network,
    walletPubkey: status.walletPubkey,
    capabilities: status.capabilities,
    connection: status.connection,
    invoices: status.invoices,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  });
});

merchantRoutes.delete("/merchants/:id", async (c) => {
  const { record } = await requireMerchant(c);
  await merchantStub(c.env, record.merchantId).forget();
  await deleteMerchant(c.var.store, record.merchantId);
  return c.body(null, 204);
});

merchantRoutes.post("/merchants/:id/rotate-key", async (c) => {
  const { record, raw } = await requireMerchant(c);
  const apiKey = newApiKey();
  const next = {
    ...record,
    apiKeyHash: hashApiKey(apiKey),
    updatedAt: Math.floor(Date.now() / 1000),
  };
  if (!(await updateMerchant(c.var.store, raw, next))) {
    throw new UnavailableError(
      "conflict",
      "Concurrent change",
      "The merchant changed while rotating the key; nothing was changed. Try again.",
    );
  }
  return c.json({ merchantId: record.merchantId, apiKey });
});

merchantRoutes.put("/merchants/:id/wallet", async (c) => {
  const { record, raw } = await requireMerchant(c);
  const nwcUrl = nwcUrlFrom(await readJsonObject(c));
  // Refuse a bad string here, before any Durable Object is touched for it.
  parseConnectionString(nwcUrl, { allowInsecureRelays: c.var.config.allowInsecureRelays });
  const wallet = unwrap(
    await merchantStub(c.env, record.merchantId).setupWallet({
      merchantId: record.merchantId,
      nwcUrl,
    }),
  );
  const next = {
    ...record,
    network: wallet.network,
    walletPubkey: wallet.walletPubkey,
    capabilities: wallet.capabilities,
    updatedAt: Math.floor(Date.now() / 1000),
  };
  await updateMerchant(c.var.store, raw, next);
  return c.json({
    merchantId: record.merchantId,
    network: wallet.network,
    capabilities: wallet.capabilities,
  });
});
