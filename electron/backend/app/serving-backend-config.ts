import type { BackendConfig } from './backend';
import type { BackendOptions } from './process-options';

/**
 * The backend behind an operator's window, in the desktop app or a browser: it follows
 * this machine live, probes it at start, and echoes its log to the terminal except in a
 * packaged build. The vault key is the caller's: web mode takes the operator's
 * passphrase, the desktop backend gets its key from the shell once it runs.
 */
export function servingBackendConfig(options: Pick<BackendOptions, 'dataDir' | 'logLevel'>, mode: 'desktop' | 'web'): BackendConfig {
  return {
    dataDir: options.dataDir,
    logLevel: options.logLevel,
    mode,
    logToConsole: process.env.SUTAZAI_BUILD !== 'production',
    sampleLocalHost: true,
    probeAtStart: true,
  };
}
