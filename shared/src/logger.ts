import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** JSON lines on stdout (SPEC §1); secrets in headers never reach the log. */
export function createLogger(options: { service: string; instanceId: string; level: LogLevel }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-service-auth"]', 'req.headers.cookie', '*.password', '*.apiKey'],
      censor: '[redacted]',
    },
  });
}
