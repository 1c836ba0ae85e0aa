// `oidc-provider` ships no type declarations: these name only what the tests use of it.
declare module 'oidc-provider' {
  import type { RequestListener } from 'node:http';

  export interface ProviderConfiguration {
    extraTokenClaims?: (ctx: unknown, token: unknown) => Record<string, unknown> | Promise<Record<string, unknown>>;
    [setting: string]: unknown;
  }

  export default class Provider {
    constructor(issuer: string, configuration: ProviderConfiguration);
    /** The provider as a Node request handler. */
    callback(): RequestListener;
  }
}
