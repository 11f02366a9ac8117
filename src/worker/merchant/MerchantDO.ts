import { DurableObject } from "cloudflare:workers";
import type { Bindings } from "../env.ts";

/**
 * One Durable Object per merchant: the single writer for that merchant's wallet
 * connection and money state. This is its skeleton: storage is SQLite-backed
 * (`new_sqlite_classes` migration) and schema set-up runs once, before any request.
 */
export class MerchantDO extends DurableObject<Bindings> {
  constructor(ctx: DurableObjectState, env: Bindings) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.ctx.storage.sql.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
      );
    });
  }

  /** Reports that this object is alive and which storage backend it has. */
  async describe(): Promise<{ storage: "sqlite"; schema: string[] }> {
    const tables = this.ctx.storage.sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .toArray()
      .map((row) => row.name)
      .filter((name) => !name.startsWith("_cf_") && !name.startsWith("sqlite_"));
    return { storage: "sqlite", schema: tables };
  }
}
