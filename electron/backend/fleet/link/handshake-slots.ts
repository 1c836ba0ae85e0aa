/**
 * A bound on connections being opened at once (SSH login, tunnel, TLS handshake): after
 * an outage every link knocks again, and fifty simultaneous logins would starve each other
 * and the hosts' sshd (MaxStartups). A link waits for a slot; its wait ends if it is stopped.
 */
export interface HandshakeSlots {
  /** Resolves with the slot's release once one is free; rejects when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void>;
}

export function createHandshakeSlots(limit: number): HandshakeSlots {
  let used = 0;
  const waiting: Array<() => void> = [];

  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else used -= 1;
  };

  return {
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (used < limit) {
        used += 1;
        return Promise.resolve(once(release));
      }
      return new Promise((resolve, reject) => {
        // The slot passes straight from its releaser to this waiter: `used` stays as it is.
        const take = (): void => {
          signal.removeEventListener('abort', abandon);
          resolve(once(release));
        };
        const abandon = (): void => {
          const at = waiting.indexOf(take);
          if (at >= 0) waiting.splice(at, 1);
          reject(signal.reason);
        };
        waiting.push(take);
        signal.addEventListener('abort', abandon, { once: true });
      });
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
