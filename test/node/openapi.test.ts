import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { openapiDocument } from "../../src/worker/middleware/openapi/document.ts";

/**
 * The document `GET /openapi.json` serves, checked by an independent validator against
 * the official OpenAPI 3.1 schema (on Node: the validator compiles schemas with
 * `new Function`, which workerd does not allow).
 */

describe("OpenAPI document", () => {
  it("behavior: is a valid OpenAPI 3.1 document, $refs included", async () => {
    const validator = new Validator();
    const result = await validator.validate(openapiDocument());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // Every $ref resolves (the validator checks shape, not references).
    const text = JSON.stringify(openapiDocument());
    for (const [, target] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      const resolved = (target ?? "")
        .split("/")
        .reduce<unknown>(
          (node, key) => (node as Record<string, unknown>)?.[key],
          openapiDocument(),
        );
      expect(resolved, target).toBeDefined();
    }
  });

  it("error: the validator does catch a broken document", async () => {
    const broken = { ...openapiDocument(), paths: { "/x": { get: { responses: "none" } } } };
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });
});
