/**
 * A service's HTTP side: the Fastify service with its probes, readiness and request limits, and the platform
 * (logger, metrics, telemetry, Consul registration) every service is built on.
 */
/** The HTTP framework's types for services adding hooks of their own (the gateway's front door). */
export type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  preHandlerHookHandler,
} from 'fastify';
export { createPlatform, type Platform, type PlatformOptions, runUntilSignalled } from './platform.js';
export {
  EARLY_ANSWER_LINGER,
  PROBES,
  type ReadinessCheck,
  Readiness,
  RunningService,
  type ServiceIdentity,
  continueWhenBodyIsRead,
  createHttpService,
  lingerAfterEarlyAnswer,
} from './http-service.js';
