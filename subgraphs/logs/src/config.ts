import { z } from 'zod';
import { serviceEnvSchema } from '@heimdall/shared';

export const logsEnvSchema = serviceEnvSchema(8002).extend({
  ELASTICSEARCH_URL: z.url().default('http://127.0.0.1:9200'),
  ELASTICSEARCH_USERNAME: z.string().min(1).optional(),
  ELASTICSEARCH_PASSWORD: z.string().optional(),
});

export type LogsConfig = z.output<typeof logsEnvSchema>;
