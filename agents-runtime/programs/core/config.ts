/** The core's settings from its environment (documented at the top of core.ts). */
import { intEnv, portEnv } from '../shared/env';

export interface CoreConfig {
  port: number;
  leaseMs: number;
  maxWaitMs: number;
  maxAttempts: number;
  stopGraceMs: number;
  httpPort?: number;
}

export function readCoreConfig(env: NodeJS.ProcessEnv = process.env): CoreConfig {
  const config: CoreConfig = {
    port: portEnv(env, 'SUTAZAI_CORE_PORT', 7700),
    leaseMs: intEnv(env, 'SUTAZAI_CORE_LEASE_MS', 15_000, 300, 3_600_000),
    maxWaitMs: intEnv(env, 'SUTAZAI_CORE_MAX_WAIT_MS', 10_000, 0, 60_000),
    maxAttempts: intEnv(env, 'SUTAZAI_CORE_MAX_ATTEMPTS', 5, 1, 1000),
    stopGraceMs: intEnv(env, 'SUTAZAI_CORE_STOP_GRACE_MS', 5_000, 0, 600_000),
  };
  if (env.SUTAZAI_CORE_HTTP_PORT) config.httpPort = portEnv(env, 'SUTAZAI_CORE_HTTP_PORT', 0);
  return config;
}
