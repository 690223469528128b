export { loadStackConfig, type StackConfig } from './config.js';
export { type StackEndpoints, stackEndpoints } from './endpoints.js';
export { browserPath } from './install.js';
export { isListening } from './net.js';
export { residentBytes, residentMemory } from './processes.js';
export { SERVERS } from './servers/index.js';
export { Stack, StackError, type ServerStatus } from './stack.js';
export { type LocalStack, type PrivateStack, REPO_DIR, freeTestPort, localStack, privateStack } from './test-stacks.js';
export {
  ensureAgentKey,
  ensureNotificationKey,
  ensureSigningKeys,
  localAuthFiles,
  mintCredentials,
  serviceAuthEnv,
} from './local-auth.js';
export { serviceEnvironment, stackVariables } from './service-env.js';
export { type Service, findServices } from './services.js';
export { Supervisor, processSupervisor } from './supervisor.js';
