/**
 * One deadline for a whole connection attempt, jump hosts included, which the caller's
 * signal can also end early. `signal` aborts on either; `cancelled` says which.
 */
export interface ConnectDeadline {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  readonly cancelled: boolean;
  dispose(): void;
}

export function startConnectDeadline(timeoutMs: number, callerSignal?: AbortSignal): ConnectDeadline {
  const controller = new AbortController();
  let cancelled = false;
  const onCallerAbort = () => {
    cancelled = true;
    controller.abort(callerSignal?.reason);
  };
  const timer = setTimeout(() => controller.abort(new Error(`deadline of ${timeoutMs} ms passed`)), timeoutMs);
  if (callerSignal?.aborted) onCallerAbort();
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    timeoutMs,
    signal: controller.signal,
    get cancelled() {
      return cancelled;
    },
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
