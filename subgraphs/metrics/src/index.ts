export { type ClickHouseTarget, createClickHouseClient } from './clickhouse.js';
