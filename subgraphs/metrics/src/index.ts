export { type ClickHouseTarget, createClickHouseClient } from './store/index.js';
export { metricsEnvSchema, type MetricsConfig } from './config.js';
export { createServer, SERVICE_NAME } from './server.js';
/** The rows an OTLP request becomes, so that a benchmark's direct-insert baseline writes exactly what ingest writes. */
export { toRows } from './ingest.js';
