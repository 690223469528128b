export { createServer, SERVICE_NAME, type Gateway } from './server.js';
export { gatewayEnvSchema, type GatewayConfig } from './config.js';
export { catalogTypeDefs } from './catalog.js';
