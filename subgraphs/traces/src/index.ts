export { tracesEnvSchema, type TracesConfig } from './config.js';
export { createServer, SERVICE_NAME } from './server.js';
