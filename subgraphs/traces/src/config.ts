import { z } from 'zod';
import { serviceEnvSchema } from '@heimdall/shared';

export const tracesEnvSchema = serviceEnvSchema(8003).extend({
  /** Jaeger's query API (traces are read there). */
  JAEGER_QUERY_URL: z.url().default('http://127.0.0.1:16686'),
});

export type TracesConfig = z.output<typeof tracesEnvSchema>;
