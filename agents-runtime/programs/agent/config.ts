/** The agent's settings from its environment (documented at the top of agent.ts). */
import { addressEnv, ConfigError, intEnv, portEnv } from '../shared/env';

export interface AgentConfig {
  coreAddress: string;
  agentId: string;
  healthPort: number;
  capabilities: string[];
  takeWaitMs: number;
  stopGraceMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export function readAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const replica = intEnv(env, 'SUTAZAI_REPLICA', 1, 1, 1000);
  const basePort = portEnv(env, 'SUTAZAI_AGENT_BASE_PORT', 7710);
  if (!env.SUTAZAI_AGENT_PORT && basePort + replica - 1 > 65_535) {
    throw new ConfigError(`replica ${replica} would listen on ${basePort + replica - 1}, past 65535: lower SUTAZAI_AGENT_BASE_PORT`);
  }
  return {
    coreAddress: addressEnv(env, 'SUTAZAI_CORE_ADDRESS', '127.0.0.1:7700'),
    agentId: env.SUTAZAI_INSTANCE?.trim() || `agent-${process.pid}`,
    healthPort: env.SUTAZAI_AGENT_PORT ? portEnv(env, 'SUTAZAI_AGENT_PORT', 0) : basePort + replica - 1,
    capabilities: (env.SUTAZAI_AGENT_CAPABILITIES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
    takeWaitMs: intEnv(env, 'SUTAZAI_AGENT_TAKE_WAIT_MS', 5_000, 0, 60_000),
    stopGraceMs: intEnv(env, 'SUTAZAI_AGENT_STOP_GRACE_MS', 8_000, 0, 600_000),
    backoffInitialMs: 250,
    backoffMaxMs: 5_000,
  };
}
