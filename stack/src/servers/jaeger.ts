import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runRecipe } from '../install.js';
import { httpGet } from '../net.js';
import type { Server } from './server.js';

const MODULE_VERSION = '1.76.0';

export const jaeger: Server = {
  name: 'jaeger',
  stopSignal: 'SIGTERM',
  startTimeoutMs: 60_000,
  port: (config) => config.jaeger.queryPort,
  ports: (config) => [
    { port: config.jaeger.queryPort, variable: 'JAEGER_QUERY_PORT' },
    { port: config.jaeger.queryGrpcPort, variable: 'JAEGER_QUERY_GRPC_PORT' },
    { port: config.jaeger.otlpGrpcPort, variable: 'JAEGER_OTLP_GRPC_PORT' },
    { port: config.jaeger.otlpHttpPort, variable: 'JAEGER_OTLP_HTTP_PORT' },
    { port: config.jaeger.thriftHttpPort, variable: 'JAEGER_THRIFT_HTTP_PORT' },
    { port: config.jaeger.healthPort, variable: 'JAEGER_HEALTH_PORT' },
  ],
  udpPorts: (config) => [
    { port: config.jaeger.thriftCompactPort, variable: 'JAEGER_THRIFT_COMPACT_PORT' },
    { port: config.jaeger.thriftBinaryPort, variable: 'JAEGER_THRIFT_BINARY_PORT' },
  ],
  install: async (config) => ({ path: await runRecipe(config, 'jaeger') }),
  async prepare(config, installed, dir) {
    const j = config.jaeger;
    const local = (port: number) => `127.0.0.1:${port}`;
    await mkdir(join(dir, 'badger', 'keys'), { recursive: true });
    await mkdir(join(dir, 'badger', 'values'), { recursive: true });
    const settings = {
      service: {
        extensions: ['jaeger_storage', 'jaeger_query', 'healthcheckv2'],
        pipelines: {
          // No batch processor and no exporter queue: Jaeger answers an OTLP export once its spans are written to
          // storage, so the traces subgraph's 200 means stored (a trace is readable by id as soon as its push is
          // answered). Measured: ~1 ms more per push; ~200 ms until readable with the batch processor.
          traces: { receivers: ['otlp', 'jaeger'], exporters: ['jaeger_storage_exporter'] },
        },
        // Jaeger's own metrics would take :8888; nothing here scrapes them.
        telemetry: { metrics: { level: 'none' }, logs: { level: 'info', encoding: 'json' } },
      },
      extensions: {
        healthcheckv2: { use_v2: true, http: { endpoint: local(j.healthPort) } },
        jaeger_query: {
          storage: { traces: 'local' },
          http: { endpoint: local(j.queryPort) },
          grpc: { endpoint: local(j.queryGrpcPort) },
          // Otherwise Jaeger traces itself to :4317, which is the gateway's OTLP port.
          enable_tracing: false,
        },
        jaeger_storage: {
          backends: {
            local: {
              badger: {
                directories: { keys: join(dir, 'badger', 'keys'), values: join(dir, 'badger', 'values') },
                ephemeral: false,
                ttl: { spans: j.spanTtl },
              },
            },
          },
        },
      },
      receivers: {
        otlp: { protocols: { grpc: { endpoint: local(j.otlpGrpcPort) }, http: { endpoint: local(j.otlpHttpPort) } } },
        // For applications still instrumented with the legacy jaeger-client.
        jaeger: {
          protocols: {
            thrift_http: { endpoint: local(j.thriftHttpPort) },
            thrift_compact: { endpoint: local(j.thriftCompactPort) },
            thrift_binary: { endpoint: local(j.thriftBinaryPort) },
          },
        },
      },
      exporters: { jaeger_storage_exporter: { trace_storage: 'local', queue: { enabled: false } } },
    };
    await writeFile(join(dir, 'config.yaml'), stringify(settings));
    return { command: installed.path, args: ['--config', join(dir, 'config.yaml')] };
  },
  async ready(config) {
    const [health, services] = await Promise.all([
      httpGet(config.jaeger.healthPort, '/status'),
      httpGet(config.jaeger.queryPort, '/api/services'),
    ]);
    return health?.status === 200 && services?.status === 200 && services.body.startsWith('{');
  },
  async version(config) {
    return (await this.ready(config)) ? `v2 (module v${MODULE_VERSION})` : undefined;
  },
};
