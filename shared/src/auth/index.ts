/**
 * Who is calling and what they may do: people's tokens (RS256), the services' internal token, roles and the rules of
 * access.
 */
export { type Caller, type CallerKind, ROLES, type Role, isRole, rolesFromClaim, serviceCaller } from './caller.js';
export { ROOT_FIELD_ROLES, mayIngest, mayRead, mayRunOperation } from './access.js';
export { ExpiringCache } from './expiring-cache.js';
export { type CallerContext, graphqlErrorWithStatus, rolesPlugin, rootFieldsOf } from './roles-plugin.js';
export { type ServiceAuthHookOptions, requireServiceAuth } from './service-auth-hook.js';
export {
  SERVICE_AUTH_HEADER,
  SERVICE_TOKEN_TTL_SECONDS,
  type ServiceTokenCheck,
  ServiceTokens,
  type ServiceTokensOptions,
} from './service-token.js';
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
} from './user-token.js';
