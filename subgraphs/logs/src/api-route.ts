/**
 * `POST /api/v1/logs` (SPEC §4, the seed format): one entry or an array of up to 10,000, validated, queued durably in
 * Redis, and answered 202 with the entries' ids before they are indexed.
 */
import { HeimdallError, fromHttpLayerError, heimdallError, toHttpError } from '@heimdall/shared/errors';
import type { Platform } from '@heimdall/shared/http';
import type { Logger } from '@heimdall/shared/telemetry';
import { parseLogEntries } from './api-entries.js';
import type { LogDocument } from './log-document.js';

/** As for OTLP (SPEC §4): 10,000 entries with long messages or stack traces take more than the default 1 MiB. */
export const API_MAX_BODY_BYTES = 20 * 1024 * 1024;

export interface AcceptedLogs {
  /** The id of each entry, in request order. */
  readonly ids: string[];
}

/**
 * Adds the route in a context of its own, whose error handler knows the route's body limit and puts the field and
 * index of a refused entry next to the message (`{ error: { code, message, field, index } }`).
 */
export async function registerLogApiRoute(
  app: Platform['app'],
  deps: { readonly enqueue: (documents: readonly LogDocument[]) => Promise<void>; readonly logger: Logger },
): Promise<void> {
  await app.register((api, _options, registered) => {
    // JSON only: a body of another type is refused with 415 instead of being read as one string.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: API_MAX_BODY_BYTES },
      api.getDefaultJsonParser('error', 'error'),
    );
    api.setErrorHandler((error, request, reply) => {
      const mapped = fromHttpLayerError(error, {
        contentType: request.headers['content-type'],
        bodyLimitBytes: API_MAX_BODY_BYTES,
      });
      const { status, headers, body } = toHttpError(mapped);
      if (status >= 500) deps.logger.warn({ err: error, status }, 'log entries not accepted');
      const details = mapped instanceof HeimdallError ? pick(mapped.details, ['field', 'index']) : {};
      return reply
        .status(status)
        .headers(headers)
        .send({ error: { ...body.error, ...details } });
    });

    api.post('/api/v1/logs', { bodyLimit: API_MAX_BODY_BYTES }, async (request, reply) => {
      const parsed = parseLogEntries(request.body, Date.now());
      if (!parsed.ok) {
        throw heimdallError('BAD_USER_INPUT', {
          message: parsed.message,
          details: {
            ...(parsed.field === undefined ? {} : { field: parsed.field }),
            ...(parsed.index === undefined ? {} : { index: parsed.index }),
          },
        });
      }
      await deps.enqueue(parsed.entries);
      const accepted: AcceptedLogs = { ids: parsed.entries.map((entry) => entry.id) };
      return reply.code(202).send(accepted);
    });
    registered();
  });
}

function pick(record: Readonly<Record<string, unknown>>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => key in record).map((key) => [key, record[key]]));
}
