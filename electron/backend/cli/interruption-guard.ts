/**
 * Ctrl+C (SIGINT) and `kill` (SIGTERM) while a command holds something it must undo when it
 * stops short (an issued certificate not yet handed over): the first signal is only recorded,
 * so the command reaches its next check and undoes its work in order (revokes, removes what it
 * wrote) before it exits; a second one runs the last synchronous cleanup and exits at once.
 * Without a listener Node dies on the spot, mid-write, leaving whatever was half done.
 */
export interface InterruptionGuard {
  /** The first signal that arrived, if any. */
  readonly signal: NodeJS.Signals | undefined;
  /** What a second signal removes before the process exits without waiting for anything. */
  onForcedExit(cleanup: () => void): void;
  release(): void;
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;
const SIGNAL_NUMBERS: Record<(typeof SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15 };

export function guardInterruptions(what: string, stderr: (line: string) => void = (line) => process.stderr.write(line)): InterruptionGuard {
  let first: NodeJS.Signals | undefined;
  let cleanup: () => void = () => undefined;
  const listener = (signal: (typeof SIGNALS)[number]): void => {
    if (first === undefined) {
      first = signal;
      stderr(`${signal}: stopping; ${what} (send it again to stop at once).\n`);
      return;
    }
    try {
      cleanup();
    } finally {
      process.exit(128 + SIGNAL_NUMBERS[signal]);
    }
  };
  for (const signal of SIGNALS) process.on(signal, listener);
  return {
    get signal() {
      return first;
    },
    onForcedExit(next) {
      cleanup = next;
    },
    release() {
      for (const signal of SIGNALS) process.off(signal, listener);
    },
  };
}
