import { join } from 'node:path';
import type { StackConfig } from './config.js';
import { POSTGRES_DATABASE, POSTGRES_USER } from './servers/postgres.js';

/** Where clients reach the stack's servers: the defaults Heimdall's services start with locally. */
export interface StackEndpoints {
  readonly consulUrl: string;
  readonly elasticsearchUrl: string;
  readonly jaegerQueryUrl: string;
  readonly jaegerOtlpHttpUrl: string;
  readonly jaegerOtlpGrpcUrl: string;
  readonly postgresUrl: string;
  readonly redisUrl: string;
  /** Data folder of the embedded ClickHouse (chdb) when CLICKHOUSE_URL is not set. */
  readonly clickhouseDataDir: string;
}

export function stackEndpoints(config: StackConfig): StackEndpoints {
  const local = (port: number) => `http://127.0.0.1:${port}`;
  return {
    consulUrl: local(config.consul.port),
    elasticsearchUrl: local(config.elasticsearch.port),
    jaegerQueryUrl: local(config.jaeger.queryPort),
    jaegerOtlpHttpUrl: local(config.jaeger.otlpHttpPort),
    jaegerOtlpGrpcUrl: local(config.jaeger.otlpGrpcPort),
    postgresUrl: `postgres://${POSTGRES_USER}@127.0.0.1:${config.postgres.port}/${POSTGRES_DATABASE}`,
    redisUrl: `redis://127.0.0.1:${config.redis.port}`,
    clickhouseDataDir: join(config.stackDir, 'clickhouse'),
  };
}
