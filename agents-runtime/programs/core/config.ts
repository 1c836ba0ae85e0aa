/** The core's settings from its environment (documented at the top of core.ts). */
import { isIP } from 'node:net';
import { ConfigError, intEnv, portEnv } from '../shared/env';

export interface CoreConfig {
  /** The address the Coordinator listens on: loopback unless agents on other machines must reach it. */
  listenAddress: string;
  port: number;
  leaseMs: number;
  maxWaitMs: number;
  maxAttempts: number;
  stopGraceMs: number;
  httpPort?: number;
}

export function readCoreConfig(env: NodeJS.ProcessEnv = process.env): CoreConfig {
  const config: CoreConfig = {
    listenAddress: listenAddressEnv(env, 'SUTAZAI_CORE_LISTEN_ADDRESS', '127.0.0.1'),
    port: portEnv(env, 'SUTAZAI_CORE_PORT', 7700),
    leaseMs: intEnv(env, 'SUTAZAI_CORE_LEASE_MS', 15_000, 300, 3_600_000),
    maxWaitMs: intEnv(env, 'SUTAZAI_CORE_MAX_WAIT_MS', 10_000, 0, 60_000),
    maxAttempts: intEnv(env, 'SUTAZAI_CORE_MAX_ATTEMPTS', 5, 1, 1000),
    stopGraceMs: intEnv(env, 'SUTAZAI_CORE_STOP_GRACE_MS', 5_000, 0, 600_000),
  };
  if (env.SUTAZAI_CORE_HTTP_PORT) config.httpPort = portEnv(env, 'SUTAZAI_CORE_HTTP_PORT', 0);
  return config;
}

/** An IP address to bind (0.0.0.0 or :: for every interface); a host name is refused, it could name several. */
function listenAddressEnv(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = (env[name] ?? '').trim();
  if (raw === '') return fallback;
  if (isIP(raw) === 0)
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} must be an IP address of this machine, e.g. 127.0.0.1, 10.0.0.5 or 0.0.0.0 (every interface)`,
    );
  return raw;
}
