import { isIP } from 'node:net';
import type { InstallConfig } from '../../config/install-config-schema';
import type { InstallHostEntry } from '../definition/install-file';

/**
 * Where a host's processes listen and how the others reach them: the TCP ports a host of a
 * role takes (checked free before an install, named by the key that sets each), the
 * address the core listens on, and the host:port agents on other hosts dial.
 */

/** The TCP ports a host of this role will listen on, each with the key that sets it. */
export function portsOf(config: InstallConfig, role: InstallHostEntry['role'], gpu: boolean): Array<{ port: number; key: string }> {
  const ports = [{ port: config.runtime.grpc_port, key: 'runtime.grpc_port' }];
  if (config.system_integration.monitoring.metrics_collection === 'prometheus')
    ports.push({ port: config.runtime.metrics_port, key: 'runtime.metrics_port' });
  if (role !== 'agent') ports.push({ port: config.core.port, key: 'core.port' });
  if (role !== 'core') {
    const agents = config.agents.replicas_per_host + (gpu ? config.agents.gpu_replicas_per_host : 0);
    for (let n = 0; n < agents; n += 1) ports.push({ port: config.agents.base_port + n, key: 'agents.base_port' });
  }
  return ports;
}

/**
 * Where the core listens: core.listen_address, where `auto` is loopback unless agents run on
 * hosts without a core (they dial the core host's address), then every interface.
 */
export function coreListenAddress(config: InstallConfig, agentsElsewhere: boolean): string {
  if (config.core.listen_address !== 'auto') return config.core.listen_address;
  return agentsElsewhere ? '0.0.0.0' : '127.0.0.1';
}

/** host:port that agents on other hosts dial: the core host's own listen address, or the address the inventory reaches it at. */
export function coreEndpointFor(config: InstallConfig, hostAddress: string, agentsElsewhere: boolean): string {
  const listen = coreListenAddress(config, agentsElsewhere);
  const address = isWildcard(listen) || isLoopback(listen) ? hostAddress : listen;
  return isIP(address) === 6 ? `[${address}]:${config.core.port}` : `${address}:${config.core.port}`;
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address === 'localhost';
}
