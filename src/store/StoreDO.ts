import { DurableObject } from "cloudflare:workers";

/** Placeholder: the embedded (Durable-Object SQLite) store is being built. */
export class StoreDO extends DurableObject {}
