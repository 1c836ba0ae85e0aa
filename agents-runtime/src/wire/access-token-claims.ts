/**
 * What an access token (`authorization: Bearer <JWT>`, EdDSA) says, as the control center
 * signs it and the runtime checks it (server/access-token.ts): issuer, audience = the
 * install's name, `sub` the operator, `role` and `attrs` claims, one `jti` per call.
 */
export const TOKEN_ISSUER = 'sutazai-control-center';
/** The longest lifetime (exp - iat) a runtime accepts: tokens live minutes, and this bounds its replay memory. */
export const MAX_TOKEN_LIFETIME_S = 15 * 60;
