// Teardown when the process ends some other way than destroy(): a normal exit without
// afterAll, an uncaught exception, SIGINT or SIGTERM. SIGKILL cannot be caught; the
// sweeper of the next run takes care of that. Handlers are installed once per process.

type Teardown = () => void;

const pending = new Set<Teardown>();
let installed = false;

/** Registers a synchronous teardown; call the returned function once it has run. */
export function onProcessExit(teardown: Teardown): () => void {
  install();
  pending.add(teardown);
  return () => pending.delete(teardown);
}

function runAll(): void {
  for (const teardown of [...pending]) {
    pending.delete(teardown);
    try {
      teardown();
    } catch (error) {
      console.error(String(error));
    }
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      runAll();
      // Listening to a signal disables its default action; when nobody else handles it,
      // die of it as the process would have without us.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, handler);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, handler);
  }
}
