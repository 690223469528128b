import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** JSON lines on stdout (SPEC §1); credentials in headers never reach the log (SPEC §8). */
export function createLogger(options: { service: string; instanceId: string; level: LogLevel }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, instance: options.instanceId },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-service-auth"]',
        'req.headers["x-api-key"]',
        'req.headers.cookie',
        'headers.authorization',
        'headers["x-service-auth"]',
        'headers["x-api-key"]',
        '*.password',
        '*.apiKey',
        '*.token',
        '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}
