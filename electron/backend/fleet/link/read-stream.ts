import type { ApiError } from '../../../contract';
import type { RuntimeStream } from '../runtime-connection';

/**
 * How a link consumer reads one runtime stream to its end: every message to `each`, the
 * stream cancelled when the link aborts the consumer (then it resolves quietly), and an end
 * the consumer did not ask for turned into a rejection, `ended()`'s error or the stream's
 * own, so the link shows itself degraded for that consumer and runs it again.
 */
export async function readUntilAborted<T>(
  stream: RuntimeStream<T>,
  signal: AbortSignal,
  each: (message: T) => void,
  ended: () => ApiError,
): Promise<void> {
  const stop = (): void => stream.cancel();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const message of stream) each(message);
  } catch (error) {
    if (signal.aborted) return;
    throw error;
  } finally {
    signal.removeEventListener('abort', stop);
    stream.cancel();
  }
  if (signal.aborted) return;
  throw ended();
}
