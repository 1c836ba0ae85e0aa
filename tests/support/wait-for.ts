export type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

export interface WaitDefaults {
  timeoutMs: number;
  /** Pause between two tries of the probe. */
  pollMs: number;
  /**
   * A throw from the probe means "not yet" and the last one is named on timeout (a daemon
   * that is still starting refuses calls). Without it a throw fails the wait at once.
   */
  retryErrors?: boolean;
  /** Appended to the timeout message, e.g. the last lines of a daemon's log. */
  diagnostics?: () => string;
}

/**
 * A bounded poll: `waitFor(what, probe, timeoutMs?)` resolves with the first value the probe
 * returns other than undefined, null or false, and rejects naming `what` once time is up.
 */
export function makeWaitFor(defaults: WaitDefaults): <T>(what: string, probe: Probe<T>, timeoutMs?: number) => Promise<T> {
  return async <T>(what: string, probe: Probe<T>, timeoutMs = defaults.timeoutMs): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await probe();
        if (value !== undefined && value !== null && value !== false) return value;
      } catch (error) {
        if (!defaults.retryErrors) throw error;
        last = error;
      }
      if (Date.now() > deadline) {
        const lastError = last ? ` (last error: ${String(last)})` : '';
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}${defaults.diagnostics?.() ?? ''}`);
      }
      await new Promise((resolve) => setTimeout(resolve, defaults.pollMs));
    }
  };
}
