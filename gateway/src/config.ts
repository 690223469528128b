import { z } from 'zod';
import { listenPort, positiveInt, serviceEnvSchema } from '@heimdall/shared';

export const gatewayEnvSchema = serviceEnvSchema(4000).extend({
  /** The single OTLP/HTTP endpoint for agents; each signal goes on to its owner. */
  OTLP_PORT: listenPort().default(4318),
  /**
   * How long a subgraph that lost its last passing instance stays in the supergraph: its fields keep
   * validating and answer UNAVAILABLE, so dashboards get partial data through a restart or an outage.
   */
  SUBGRAPH_RETENTION_MS: z.coerce.number().int().min(0).default(300_000),
  /** Per subgraph call (SPEC §7: 3 s). */
  SUBGRAPH_TIMEOUT_MS: positiveInt().default(3000),
  /**
   * How long one OTLP request forwarded from :4318 may take, from the agent's request to the end of the owner's
   * answer; then the agent gets 503 + Retry-After and the forward is ended.
   */
  OTLP_FORWARD_TIMEOUT_MS: positiveInt().default(30_000),
  /** How long an open breaker waits before letting a trial call through (SPEC §7: 30 s). */
  SUBGRAPH_BREAKER_HALF_OPEN_MS: positiveInt().default(30_000),
});

export type GatewayConfig = z.output<typeof gatewayEnvSchema>;
