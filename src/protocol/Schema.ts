/**
 * A few schema combinators for untrusted JSON (NIP-47, x402, MPP). Each schema both checks a value
 * and names its TypeScript type (`Infer<typeof S>`), so the validator and the type
 * cannot drift. Objects map wire names (`payment_hash`) to ln402 names (`paymentHash`)
 * in the same declaration. Hand-written to avoid a dependency; small on purpose.
 */

/** Where and why an untrusted value failed its schema; callers wrap it in their own error. */
export class SchemaIssue extends Error {
  readonly path: string;
  constructor(path: string, expected: string) {
    super(`${path || "the value"} must be ${expected}`);
    this.name = "SchemaIssue";
    this.path = path;
  }
}

/** Checks an untrusted value at `path` and returns it typed, or throws `SchemaIssue`. */
export type Parser<T> = (value: unknown, path: string) => T;

/** A field of an object schema: its wire key, its parser, and whether it may be absent. */
export type Field<T, Optional extends boolean> = {
  key: string;
  parse: Parser<T>;
  optional: Optional;
};

type Shape = Record<string, Field<unknown, boolean>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
type FieldValue<F> = F extends Field<infer T, boolean> ? T : never;

/** The type an object schema produces: required fields, then optional ones. */
export type ObjectOf<S extends Shape> = Simplify<
  { [K in keyof S as S[K] extends Field<unknown, false> ? K : never]: FieldValue<S[K]> } & {
    [K in keyof S as S[K] extends Field<unknown, false> ? never : K]?: FieldValue<S[K]>;
  }
>;

/** The type a parser produces. */
export type Infer<P> = P extends Parser<infer T> ? T : never;

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A required field read from `key`. */
export function required<T>(key: string, parse: Parser<T>): Field<T, false> {
  return { key, parse, optional: false };
}

/**
 * An optional field read from `key`. Wallets variously omit a missing value, send
 * `null`, or send `""` (e.g. `preimage` of an unpaid invoice); all three mean absent.
 */
export function optional<T>(key: string, parse: Parser<T>): Field<T, true> {
  return { key, parse, optional: true };
}

/** An object with the given fields; unknown wire keys are ignored (NIP-47 may add fields). */
export function object<S extends Shape>(shape: S): Parser<ObjectOf<S>> {
  return (value, path) => {
    if (!isRecord(value)) throw new SchemaIssue(path, "an object");
    const out: Record<string, unknown> = {};
    for (const [name, field] of Object.entries(shape)) {
      const raw = value[field.key];
      const fieldPath = path ? `${path}.${field.key}` : field.key;
      if (raw === undefined || raw === null || raw === "") {
        if (!field.optional) throw new SchemaIssue(fieldPath, "present");
        continue;
      }
      const parsed = field.parse(raw, fieldPath);
      if (parsed !== undefined) out[name] = parsed;
    }
    return out as ObjectOf<S>;
  };
}

/** A string of at most `maxLength` characters. */
export function string(maxLength = 10_000): Parser<string> {
  return (value, path) => {
    if (typeof value !== "string") throw new SchemaIssue(path, "a string");
    if (value.length > maxLength) throw new SchemaIssue(path, `at most ${maxLength} characters`);
    return value;
  };
}

/** Hex of exactly `chars` characters, returned lowercase (wallets are not all strict). */
export function hex(chars: number): Parser<string> {
  const pattern = new RegExp(`^[0-9a-fA-F]{${chars}}$`);
  return (value, path) => {
    if (typeof value !== "string" || !pattern.test(value))
      throw new SchemaIssue(path, `${chars} hex characters`);
    return value.toLowerCase();
  };
}

/** A non-negative safe integer (msat amounts, unix seconds, block heights). */
export const count: Parser<number> = (value, path) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new SchemaIssue(path, "a non-negative integer");
  return value;
};

/** One of `values`; anything else fails. */
export function oneOf<const V extends string>(values: readonly V[]): Parser<V> {
  return (value, path) => {
    if (typeof value !== "string" || !(values as readonly string[]).includes(value))
      throw new SchemaIssue(path, `one of ${values.join(", ")}`);
    return value as V;
  };
}

/** An array of at most `maxItems` items, each checked by `item`. */
export function array<T>(item: Parser<T>, maxItems = 1_000): Parser<T[]> {
  return (value, path) => {
    if (!Array.isArray(value)) throw new SchemaIssue(path, "an array");
    if (value.length > maxItems) throw new SchemaIssue(path, `at most ${maxItems} items`);
    return value.map((v, i) => item(v, `${path}[${i}]`));
  };
}

/** Like `parse`, but a value it rejects becomes `undefined` (for fields we only inform with). */
export function lenient<T>(parse: Parser<T>): Parser<T | undefined> {
  return (value, path) => {
    try {
      return parse(value, path);
    } catch (err) {
      if (err instanceof SchemaIssue) return undefined;
      throw err;
    }
  };
}
