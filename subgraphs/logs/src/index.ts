export { logsEnvSchema, type LogsConfig } from './config.js';
export { createServer, SERVICE_NAME } from './server.js';
