export { logsEnvSchema, type LogsConfig } from './config.js';
export { queueKeys } from './queue/log-queue.js';
export { createServer, type LogsDeps, SERVICE_NAME } from './server.js';
// For bench/: its direct `_bulk` baseline writes the very documents OTLP ingest stores, into an index of the same template.
export { toLogDocuments } from './otlp-logs.js';
export { TEMPLATE_FILE, bulkDocument } from './store/index.js';
// For bench/: the pattern miner timed on its own, without Elasticsearch's read before it.
export { minePatterns } from './patterns.js';
