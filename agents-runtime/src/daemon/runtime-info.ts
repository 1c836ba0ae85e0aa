/** What the daemon says about itself and its machine (info, GetInfo). */
export interface HostFacts {
  hostname: string;
  platform: string;
  osRelease: string;
  arch: string;
  cpuCount: number;
  memoryTotalBytes: number;
  nodeVersion: string;
}

export interface RuntimeInfo {
  runtimeVersion: string;
  startedAtMs: number;
  uptimeMs: number;
  /** null when no manifest is loaded. */
  manifestVersion: string | null;
  /** null when the runtime was not installed from a release bundle. */
  bundleVersion: string | null;
  host: HostFacts;
}
