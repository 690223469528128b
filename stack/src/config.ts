import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadConfig, port } from '@heimdall/shared/config';

const heap = () => z.string().regex(/^\d+[mg]$/, 'a JVM heap size such as 512m or 1g');

const schema = z.object({
  HEIMDALL_STACK_DIR: z.string().min(1).optional(),
  HEIMDALL_CACHE: z.string().min(1).optional(),
  XDG_CACHE_HOME: z.string().min(1).optional(),
  HOME: z.string().min(1).optional(),
  CONSUL_PORT: port().default(8500),
  CONSUL_SERVER_PORT: port().default(8300),
  CONSUL_SERF_LAN_PORT: port().default(8301),
  ES_PORT: port().default(9200),
  ES_TRANSPORT_PORT: port().default(9300),
  ES_HEAP: heap().default('1g'),
  JAEGER_QUERY_PORT: port().default(16686),
  JAEGER_QUERY_GRPC_PORT: port().default(16685),
  // Jaeger's OTLP receiver moves off 4317/4318: those are the gateway's (SPEC §1).
  JAEGER_OTLP_GRPC_PORT: port().default(14317),
  JAEGER_OTLP_HTTP_PORT: port().default(14318),
  JAEGER_THRIFT_HTTP_PORT: port().default(14268),
  JAEGER_THRIFT_COMPACT_PORT: port().default(6831),
  JAEGER_THRIFT_BINARY_PORT: port().default(6832),
  JAEGER_HEALTH_PORT: port().default(13133),
  JAEGER_SPAN_TTL: z
    .string()
    .regex(/^\d+h$/, 'hours such as 168h')
    .default('168h'),
  POSTGRES_PORT: port().default(5432),
  REDIS_PORT: port().default(6379),
  REDIS_MAXMEMORY: z
    .string()
    .regex(/^\d+(mb|gb)$/, 'a size such as 256mb')
    .default('256mb'),
});

/** Where the local stack keeps its state and which ports its servers take. */
export interface StackConfig {
  /** Data, logs and pid files (git-ignored). Default: `<repo>/.stack`. */
  readonly stackDir: string;
  /** Downloads and builds, outside the checkout. Default: `${XDG_CACHE_HOME:-$HOME/.cache}/heimdall`. */
  readonly cacheDir: string;
  readonly repoDir: string;
  /** The environment install recipes run with (Go, Java and proxy settings pass through). */
  readonly inheritedEnv: Readonly<Record<string, string | undefined>>;
  readonly consul: { readonly port: number; readonly serverPort: number; readonly serfLanPort: number };
  readonly elasticsearch: { readonly port: number; readonly transportPort: number; readonly heap: string };
  readonly jaeger: {
    readonly queryPort: number;
    readonly queryGrpcPort: number;
    readonly otlpGrpcPort: number;
    readonly otlpHttpPort: number;
    readonly thriftHttpPort: number;
    readonly thriftCompactPort: number;
    readonly thriftBinaryPort: number;
    readonly healthPort: number;
    readonly spanTtl: string;
  };
  readonly postgres: { readonly port: number };
  readonly redis: { readonly port: number; readonly maxMemory: string };
}

export function loadStackConfig(env: Record<string, string | undefined>, repoDir: string): StackConfig {
  const e = loadConfig(schema, env);
  const cacheRoot = e.XDG_CACHE_HOME ?? join(e.HOME ?? homedir(), '.cache');
  return Object.freeze({
    stackDir: e.HEIMDALL_STACK_DIR ?? join(repoDir, '.stack'),
    cacheDir: e.HEIMDALL_CACHE ?? join(cacheRoot, 'heimdall'),
    repoDir,
    inheritedEnv: { ...env },
    consul: { port: e.CONSUL_PORT, serverPort: e.CONSUL_SERVER_PORT, serfLanPort: e.CONSUL_SERF_LAN_PORT },
    elasticsearch: { port: e.ES_PORT, transportPort: e.ES_TRANSPORT_PORT, heap: e.ES_HEAP },
    jaeger: {
      queryPort: e.JAEGER_QUERY_PORT,
      queryGrpcPort: e.JAEGER_QUERY_GRPC_PORT,
      otlpGrpcPort: e.JAEGER_OTLP_GRPC_PORT,
      otlpHttpPort: e.JAEGER_OTLP_HTTP_PORT,
      thriftHttpPort: e.JAEGER_THRIFT_HTTP_PORT,
      thriftCompactPort: e.JAEGER_THRIFT_COMPACT_PORT,
      thriftBinaryPort: e.JAEGER_THRIFT_BINARY_PORT,
      healthPort: e.JAEGER_HEALTH_PORT,
      spanTtl: e.JAEGER_SPAN_TTL,
    },
    postgres: { port: e.POSTGRES_PORT },
    redis: { port: e.REDIS_PORT, maxMemory: e.REDIS_MAXMEMORY },
  });
}
