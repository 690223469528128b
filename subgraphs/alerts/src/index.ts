export { alertsEnvSchema, type AlertsConfig } from './config.js';
export { createServer, SERVICE_NAME } from './server.js';
