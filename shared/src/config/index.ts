/**
 * Configuration parsed once at start: the zod loader that names a bad variable, and the variables every service
 * reads.
 */
export { ConfigError, listenPort, loadConfig, loadConfigOrExit, port, positiveInt } from './load-config.js';
export { type ServiceEnv, serviceEnvSchema } from './service-env.js';
