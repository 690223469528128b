/**
 * The whole federated system for tests and benchmarks: in this process on the local stack's servers (System), or
 * a service in a process of its own (ServiceProcess), as it ships.
 */
export {
  type GraphQLErrorBody,
  JWT_AUDIENCE,
  JWT_ISSUER,
  type SubgraphName,
  System,
  type TokenOptions,
  recentRange,
} from './system.js';
export { ServiceProcess } from './service-process.js';
