/**
 * The OTLP/HTTP receiver contract (SPEC §4), shared by the metrics, logs and traces subgraphs: content types,
 * gzip, the body limit, `google.rpc.Status` errors, partial success and retry hints. A subgraph supplies only
 * `handle`, which stores a decoded request and reports how many items it rejected.
 */
import { createGunzip } from 'node:zlib';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type ErrorCode,
  HeimdallError,
  fromHttpLayerError,
  heimdallError,
  toHttpError,
} from '../errors/heimdall-error.js';
import { lingerAfterEarlyAnswer } from '../http/http-service.js';
import {
  type OtlpEncoding,
  type OtlpExportResult,
  type OtlpRequest,
  type OtlpSignal,
  OTLP_CONTENT_TYPES,
  decodeOtlpRequest,
  encodeOtlpResponse,
  encodeRpcStatus,
} from './decode.js';

/** 20 MiB, the limit SPEC §4 sets on a request body after decompression. */
export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

export interface OtlpHandlerContext {
  /** The HTTP request, for headers (authentication, tenancy) and its logger. */
  readonly request: FastifyRequest;
  /** The request's wire format; the response is sent in the same one. */
  readonly encoding: OtlpEncoding;
}

export interface OtlpRouteOptions<S extends OtlpSignal> {
  readonly signal: S;
  /** Route path. Default: the OTLP/HTTP path of the signal, `/v1/metrics`, `/v1/logs` or `/v1/traces`. */
  readonly path?: string;
  /**
   * Largest accepted body in bytes, applied both to the body as received and to it after gunzip; larger → 413.
   * Default: `DEFAULT_MAX_BODY_BYTES` (20 MiB).
   */
  readonly maxBodyBytes?: number;
  /**
   * Stores a decoded request; resolves once the data is durable (OTLP answers 200 only then). Throw a
   * `HeimdallError` UNAVAILABLE or RATE_LIMITED (with `retryAfterSeconds`) for 503/429 + `Retry-After`;
   * anything else thrown becomes a 500 whose cause is logged, not sent.
   */
  readonly handle: (request: OtlpRequest<S>, ctx: OtlpHandlerContext) => Promise<OtlpExportResult>;
}

const DEFAULT_PATHS: { readonly [S in OtlpSignal]: string } = {
  metrics: '/v1/metrics',
  logs: '/v1/logs',
  traces: '/v1/traces',
};

/**
 * google.rpc.Code of each error, for the Status body. The HTTP status already tells OTLP clients whether to
 * retry; the code is for people and gRPC-minded tooling reading the body.
 */
const RPC_CODES: { readonly [C in ErrorCode]: number } = {
  BAD_USER_INPUT: 3, // INVALID_ARGUMENT
  UNAUTHENTICATED: 16,
  FORBIDDEN: 7, // PERMISSION_DENIED
  NOT_FOUND: 5,
  CONFLICT: 10, // ABORTED: a concurrency conflict
  PAYLOAD_TOO_LARGE: 3, // INVALID_ARGUMENT: not RESOURCE_EXHAUSTED, which clients read as "retry later"
  UNSUPPORTED_MEDIA_TYPE: 3,
  LIMIT_EXCEEDED: 8, // RESOURCE_EXHAUSTED
  RATE_LIMITED: 8,
  UNAVAILABLE: 14,
  INTERNAL: 13,
};

/** The encoding named by a Content-Type header (parameters such as charset ignored), if it is one OTLP allows. */
export function otlpEncodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const mediaType = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  if (mediaType === OTLP_CONTENT_TYPES.protobuf) return 'protobuf';
  if (mediaType === OTLP_CONTENT_TYPES.json) return 'json';
  return undefined;
}

/**
 * Adds `POST <path>` for one signal. The route lives in its own encapsulated context: its content-type
 * parsers (raw buffers, no JSON parsing) and error handler do not leak into the app's other routes, such as
 * GraphQL's JSON endpoint.
 */
export async function registerOtlpRoute<S extends OtlpSignal>(
  app: FastifyInstance,
  options: OtlpRouteOptions<S>,
): Promise<void> {
  const { signal, handle } = options;
  const path = options.path ?? DEFAULT_PATHS[signal];
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  await app.register((otlp, _options, registered) => {
    otlp.removeAllContentTypeParsers();
    // bodyLimit caps the bytes read from the socket (compressed or not); gunzipWithLimit caps what they inflate to.
    otlp.addContentTypeParser(
      Object.values(OTLP_CONTENT_TYPES),
      { parseAs: 'buffer', bodyLimit: maxBodyBytes },
      (_request, body, done) => {
        done(null, body);
      },
    );

    // Checked before the body is read, so an unacceptable request costs nothing.
    otlp.addHook('onRequest', (request, _reply, done) => {
      if (otlpEncodingOf(request.headers['content-type']) === undefined) {
        done(
          heimdallError('UNSUPPORTED_MEDIA_TYPE', {
            message: `Content-Type must be ${OTLP_CONTENT_TYPES.protobuf} or ${OTLP_CONTENT_TYPES.json}`,
          }),
        );
      } else if (contentEncodingOf(request) === undefined) {
        done(heimdallError('UNSUPPORTED_MEDIA_TYPE', { message: 'Content-Encoding must be gzip or identity' }));
      } else {
        done();
      }
    });

    otlp.setErrorHandler((error: FastifyError, request, reply) =>
      sendError(
        request,
        reply,
        fromHttpLayerError(error, { contentType: request.headers['content-type'], bodyLimitBytes: maxBodyBytes }),
      ),
    );

    otlp.post(path, async (request, reply) => {
      // The onRequest hook guarantees both are known.
      const encoding = otlpEncodingOf(request.headers['content-type']) ?? 'json';
      const raw = request.body instanceof Buffer ? request.body : Buffer.alloc(0);

      let body: Uint8Array = raw;
      if (contentEncodingOf(request) === 'gzip') {
        const inflated = await gunzipWithLimit(raw, maxBodyBytes);
        if (!inflated.ok) {
          throw inflated.tooLarge
            ? heimdallError('PAYLOAD_TOO_LARGE', { message: `decompressed body exceeds ${maxBodyBytes} bytes` })
            : heimdallError('BAD_USER_INPUT', { message: inflated.message });
        }
        body = inflated.body;
      }

      const decoded = decodeOtlpRequest(signal, encoding, body);
      if (!decoded.ok) throw heimdallError('BAD_USER_INPUT', { message: decoded.message });

      const result = await handle(decoded.request, { request, encoding });
      return send(reply, 200, encodeOtlpResponse(signal, encoding, result));
    });
    registered();
  });
}

function contentEncodingOf(request: FastifyRequest): 'gzip' | 'identity' | undefined {
  const value = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  return value === 'gzip' || value === 'identity' ? value : undefined;
}

export type GunzipResult =
  | { readonly ok: true; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly tooLarge: true;
      /** Bytes inflated before stopping; about `limit`. */ readonly inflatedBytes: number;
    }
  | { readonly ok: false; readonly tooLarge: false; readonly message: string };

/**
 * Gunzips with a cap on the output. The zlib stream inflates only as fast as it is read (it pauses when its
 * output buffer is full), so leaving the loop at the limit stops inflation there: a gzip bomb costs at most
 * `limit` plus one stream buffer of memory, never its full inflated size.
 */
export async function gunzipWithLimit(compressed: Uint8Array, limit: number): Promise<GunzipResult> {
  const gunzip = createGunzip();
  gunzip.end(compressed);
  const chunks: Buffer[] = [];
  let inflatedBytes = 0;
  try {
    // Returning from the loop destroys the stream, which frees zlib's state.
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflatedBytes += chunk.length;
      if (inflatedBytes > limit) return { ok: false, tooLarge: true, inflatedBytes };
      chunks.push(chunk);
    }
  } catch (error) {
    return {
      ok: false,
      tooLarge: false,
      message: `invalid gzip body: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return { ok: true, body: Buffer.concat(chunks, inflatedBytes) };
}

/** An OTLP/HTTP error response, ready to write: status, headers (Content-Type included) and body. */
export interface OtlpErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/**
 * Any thrown value as the OTLP/HTTP error answer (SPEC §4): the catalog's status, `Retry-After` when the error
 * carries a retry hint, and a `google.rpc.Status` in the request's encoding, chosen from its Content-Type header
 * (JSON when it names none OTLP allows). Unknown errors become INTERNAL and reveal nothing of their cause.
 */
export function encodeOtlpError(error: unknown, requestContentType: string | undefined): OtlpErrorAnswer {
  const mapped = error instanceof HeimdallError ? error : new HeimdallError('INTERNAL', { cause: error });
  const { status, headers, body } = toHttpError(mapped);
  const encoded = encodeRpcStatus(
    otlpEncodingOf(requestContentType) ?? 'json',
    RPC_CODES[mapped.code],
    body.error.message,
  );
  return {
    status,
    headers: {
      ...headers,
      'content-type': encoded.contentType,
      // Stop reading a body refused for its size: with keep-alive, the server would otherwise drain all of it.
      ...(status === 413 ? { connection: 'close' } : {}),
    },
    body:
      typeof encoded.body === 'string'
        ? Buffer.from(encoded.body)
        : Buffer.from(encoded.body.buffer, encoded.body.byteOffset, encoded.body.byteLength),
  };
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const mapped = error instanceof HeimdallError ? error : new HeimdallError('INTERNAL', { cause: error });
  if (mapped.code === 'INTERNAL') request.log.error({ err: mapped.cause }, 'OTLP export failed');
  else if (mapped.status >= 500) request.log.warn({ err: mapped }, 'OTLP export unavailable');
  const { status, headers, body } = encodeOtlpError(mapped, request.headers['content-type']);
  // Refused before its body was read: let the agent finish sending and read the answer, rather than a reset it
  // would retry. (`complete` is false only on a real socket's request; app.inject's has none.)
  if (status < 500 && request.raw.complete === false) {
    void reply.header('connection', 'close');
    lingerAfterEarlyAnswer(request.raw, reply.raw);
  }
  return reply.code(status).headers(headers).send(body);
}

function send(
  reply: FastifyReply,
  status: number,
  encoded: { contentType: string; body: Uint8Array | string },
): FastifyReply {
  const { body } = encoded;
  const payload = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return reply.code(status).type(encoded.contentType).send(payload);
}
