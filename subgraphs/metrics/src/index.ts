export { type ClickHouseTarget, createClickHouseClient } from './clickhouse.js';
export { createServer, SERVICE_NAME } from './server.js';
