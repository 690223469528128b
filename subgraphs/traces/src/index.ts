export { createServer, SERVICE_NAME } from './server.js';
