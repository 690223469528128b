import { vi } from 'vitest';
import { createLogger } from '@heimdall/shared/telemetry';

/** A logger that prints nothing and records what was logged, per level. */
export function makeLogger() {
  const logger = createLogger({ service: 'gateway', instanceId: 'test', level: 'silent' });
  return {
    logger,
    debug: vi.spyOn(logger, 'debug'),
    info: vi.spyOn(logger, 'info'),
    warn: vi.spyOn(logger, 'warn'),
    error: vi.spyOn(logger, 'error'),
  };
}
