/** The error catalog: HeimdallError with its code, status and details, and its mapping to HTTP and GraphQL answers. */
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
} from './heimdall-error.js';
