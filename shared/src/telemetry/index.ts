/** What a service says about itself: traces (OpenTelemetry), Prometheus metrics and structured logs. */
export { createLogger, type LogLevel, type Logger } from './logger.js';
export { type Counter, ServiceMetrics } from './service-metrics.js';
export {
  type IncomingHeaders,
  type Telemetry,
  type TelemetryDeps,
  type TelemetryOptions,
  type WithSpanOptions,
  createTelemetry,
} from './tracing.js';
