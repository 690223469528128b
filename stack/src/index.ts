export { loadStackConfig, type StackConfig } from './config.js';
export { type StackEndpoints, stackEndpoints } from './endpoints.js';
export { isListening } from './net.js';
export { SERVERS } from './servers/index.js';
export { Stack, StackError, type ServerStatus } from './stack.js';
export { type LocalStack, REPO_DIR, localStack } from './testing.js';
