import type { Bolt11Network } from "../protocol/bolt11/Bolt11.ts";
import type { LightningProvider } from "../providers/LightningProvider.ts";

/**
 * The network a method's invoices must be on: the configured one, else what the
 * provider reports (asked once), else mainnet. A failed ask is not remembered, so a
 * wallet that was unreachable at first is asked again on the next request.
 */
export function networkOf(
  provider: LightningProvider,
  configured?: Bolt11Network,
): () => Promise<Bolt11Network> {
  let known: Promise<Bolt11Network> | undefined;
  return () => {
    if (configured) return Promise.resolve(configured);
    if (!known) {
      const asked = provider.getNetwork?.() ?? Promise.resolve<Bolt11Network>("mainnet");
      known = asked;
      asked.catch(() => {
        if (known === asked) known = undefined;
      });
    }
    return known;
  };
}
