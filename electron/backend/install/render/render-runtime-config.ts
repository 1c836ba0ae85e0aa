import { isIP } from 'node:net';
import { stringify } from 'yaml';
import type { InstallConfig } from '../../config/install-config-schema';
import type { InstallLayout, ReleaseLayout } from '../definition/install-layout';

/**
 * sutazai-runtime's own config file (agents-runtime/config/example-runtime.yaml) for one
 * release on one host. Every path is absolute and inside the release (or the install's
 * state and log directories), because the runtime resolves relative paths against the
 * file's directory, and the documented path <config_dir>/runtime.yaml is a link to it.
 */
export function renderRuntimeConfig(config: InstallConfig, layout: InstallLayout, release: ReleaseLayout, installName: string): string {
  const { runtime } = config;
  const logs: Record<string, unknown> = {
    max_file_bytes: runtime.logs.max_file_bytes,
    keep_files: runtime.logs.keep_files,
    max_total_bytes: runtime.logs.max_total_bytes,
  };
  // `auto` is the runtime's default; leaving it out keeps the file readable by runtimes
  // that predate the key.
  if (runtime.logs.timestamps !== 'auto') logs.timestamps = runtime.logs.timestamps;
  const document: Record<string, unknown> = {
    manifest: release.manifest,
    listen: hostPort(runtime.listen_address, runtime.grpc_port),
    tls: { ca: release.caCert, cert: release.serverCert, key: release.serverKey },
    state_dir: layout.stateDir,
    log_dir: layout.logDir,
    logs,
    audit: { max_file_bytes: runtime.audit.max_file_bytes, keep_files: runtime.audit.keep_files },
  };
  if (config.system_integration.monitoring.metrics_collection === 'prometheus') {
    document.metrics = { listen: hostPort(runtime.metrics_listen_address, runtime.metrics_port) };
  }
  const header = `# sutazai-runtime for install ${installName}, release ${release.version}: written by the SutazAI control\n# center. Apply the install again rather than editing it: a change here is overwritten.\n`;
  return header + stringify(document, { lineWidth: 0 });
}

export function hostPort(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
