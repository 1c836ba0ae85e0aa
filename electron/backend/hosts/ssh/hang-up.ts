import type { Client } from 'ssh2';

// Grace for a polite disconnect before the sockets are torn down.
const HANG_UP_GRACE_MS = 2_000;

/** Ends SSH connections politely (DISCONNECT, then FIN), destroying any that linger. */
export function hangUp(clients: readonly Client[]): void {
  for (const client of clients) {
    try {
      client.end();
    } catch {
      // already closed
    }
  }
  const teardown = setTimeout(() => {
    for (const client of clients) client.destroy();
  }, HANG_UP_GRACE_MS);
  teardown.unref();
}
