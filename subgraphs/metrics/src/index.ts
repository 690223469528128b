export { type ClickHouseTarget, createClickHouseClient } from './store/index.js';
export { metricsEnvSchema, type MetricsConfig } from './config.js';
export { createServer, SERVICE_NAME } from './server.js';
