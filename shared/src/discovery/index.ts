/**
 * Finding other services: the Consul client (registration, health, blocking queries) and the peer client that calls
 * another Heimdall service through it.
 */
export {
  type BlockingQuery,
  type CatalogServices,
  type ConsulApi,
  ConsulClient,
  ConsulError,
  type HealthCheck,
  type PassingInstances,
  type ServiceInstance,
  type ServiceRegistration,
} from './consul-client.js';
export { PeerClient, type PeerClientOptions, type PeerOptions, createPeer } from './peer-client.js';
