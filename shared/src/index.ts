export { ConfigError, loadConfig, port, positiveInt } from './config.js';
export {
  ConsulClient,
  ConsulError,
  type HealthCheck,
  type PassingInstances,
  type ServiceInstance,
  type ServiceRegistration,
} from './consul.js';
