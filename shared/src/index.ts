export { type Caller, type CallerKind, ROLES, type Role, isRole, rolesFromClaim, serviceCaller } from './auth/caller.js';
export { ROOT_FIELD_ROLES, mayIngest, mayRead, mayRunOperation } from './auth/access.js';
export { ExpiringCache } from './auth/expiring-cache.js';
export { type CallerContext, graphqlErrorWithStatus, rolesPlugin, rootFieldsOf } from './auth/roles-plugin.js';
export { type ServiceAuthHookOptions, requireServiceAuth } from './auth/service-auth-hook.js';
export {
  SERVICE_AUTH_HEADER,
  SERVICE_TOKEN_TTL_SECONDS,
  type ServiceTokenCheck,
  ServiceTokens,
  type ServiceTokensOptions,
} from './auth/service-token.js';
export {
  type UserKeySource,
  type UserTokenCheck,
  type UserTokenClaims,
  type UserTokenVerifier,
  type UserTokenVerifierOptions,
  DEFAULT_JWT_AUDIENCE,
  DEFAULT_JWT_ISSUER,
  createUserTokenVerifier,
  generateUserSigningKeys,
  signUserToken,
} from './auth/user-token.js';
export { ConfigError, listenPort, loadConfig, loadConfigOrExit, port, positiveInt } from './config/load-config.js';
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
} from './discovery/consul-client.js';
export {
  ERROR_CATALOG,
  type ErrorCatalogEntry,
  type ErrorCode,
  HeimdallError,
  type HeimdallErrorArgs,
  fromHttpLayerError,
  type RefusedRequest,
  type HeimdallErrorOptions,
  type HttpError,
  heimdallError,
  toGraphQLError,
  toHttpError,
} from './errors/heimdall-error.js';
export { mountGraphQL, type GraphQLMountOptions } from './graphql/mount-graphql.js';
/** The HTTP framework's types for services adding hooks of their own (the gateway's front door). */
export type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, preHandlerHookHandler } from 'fastify';
export { type Migration, type MigrationTarget, loadMigrations, runMigrations, splitStatements } from './migrations/sql-migrations.js';
export { createLogger, type LogLevel, type Logger } from './telemetry/logger.js';
export { type Counter, ServiceMetrics } from './telemetry/service-metrics.js';
export { createPlatform, type Platform, type PlatformOptions, runUntilSignalled } from './http/platform.js';
export {
  type BreakerOptions,
  type BreakerState,
  type BulkheadOptions,
  type ExecuteOptions,
  HttpStatusError,
  type RejectionReason,
  ResilienceMetrics,
  type ResilienceOptions,
  type ResiliencePolicy,
  type RetryOptions,
  createResiliencePolicy,
  isRetryableError,
  parseRetryAfter,
} from './resilience/policy.js';
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
} from './http/http-service.js';
export { type ServiceEnv, serviceEnvSchema } from './config/service-env.js';
export {
  type IncomingHeaders,
  type Telemetry,
  type TelemetryDeps,
  type TelemetryOptions,
  type WithSpanOptions,
  createTelemetry,
} from './telemetry/tracing.js';
export { type BatcherOptions, GroupCommitBatcher, type ItemOutcomes } from './resilience/group-commit-batcher.js';
export {
  type DecodeResult,
  type OtlpEncoding,
  type OtlpExportResult,
  type OtlpRequest,
  type OtlpSignal,
  decodeOtlpRequest,
  hexId,
} from './otlp/decode.js';
export { type Json, anyValueJson, anyValueText } from './otlp/any-value.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  type OtlpErrorAnswer,
  type OtlpHandlerContext,
  type OtlpRouteOptions,
  encodeOtlpError,
  registerOtlpRoute,
} from './otlp/receiver.js';
export type {
  AnyValue,
  ExportLogsServiceRequest,
  ExportMetricsServiceRequest,
  ExportTraceServiceRequest,
  KeyValue,
  Metric,
} from './otlp/schema.js';
import * as otlp from './otlp/schema.js';

/** The OTLP message types and their descriptors: `otlp.ExportMetricsServiceRequestSchema`, `otlp.Metric`, ... */
export { otlp };
export { PeerClient, type PeerClientOptions, type PeerOptions, createPeer } from './discovery/peer-client.js';
export { createSubgraphPlatform, loadSubgraphSchema, serveSubgraphSchema } from './graphql/subgraph-platform.js';
/** What users type: durations, instants, ranges and sizes, and the BAD_USER_INPUT naming the argument at fault. */
export { type DurationBounds, type Parsed, checkDuration, formatDuration, parseDuration } from './user-input/durations.js';
export { formatInstant, instantMs, parseInstant } from './user-input/instants.js';
export {
  type ParsedRange,
  type RangeBounds,
  type TimeRangeInput,
  badUserInput,
  badUserInputs,
  type FieldError,
  durationArgument,
  parseRange,
  rangeArgument,
  rangeArgumentNanos,
  sizeArgument,
} from './user-input/arguments.js';
