import type { TestProject } from "vitest/node";

/** Temporary: replaced by the real devnet start-up. */
export default async function setup(project: TestProject) {
  project.provide("relayUrl", "ws://127.0.0.1:1");
  return async () => {};
}

declare module "vitest" {
  export interface ProvidedContext {
    relayUrl: string;
  }
}
