export { logsEnvSchema, type LogsConfig } from './config.js';
export { queueKeys } from './queue/log-queue.js';
export { createServer, type LogsDeps, SERVICE_NAME } from './server.js';
