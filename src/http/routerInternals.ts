import type { AnyTRPCProcedure, AnyTRPCRootTypes, AnyTRPCRouter, TRPCRootConfig } from '@trpc/server';

/** What Warden's direct handlers read from a tRPC router's definition, once, at creation. */
export interface RouterInternals {
  config: TRPCRootConfig<AnyTRPCRootTypes>;
  /** Every procedure by its full dotted path (the definition keeps them flattened). */
  procedures: Record<string, AnyTRPCProcedure | undefined>;
  /** No data transformer: serialising through tRPC's identity transformer would only copy objects. */
  plainJson: boolean;
}

export function readRouterInternals(router: AnyTRPCRouter): RouterInternals {
  const config = router._def._config as TRPCRootConfig<AnyTRPCRootTypes>;
  const probe = {};
  return {
    config,
    procedures: router._def.procedures as Record<string, AnyTRPCProcedure | undefined>,
    plainJson: config.transformer.output.serialize(probe) === probe,
  };
}
