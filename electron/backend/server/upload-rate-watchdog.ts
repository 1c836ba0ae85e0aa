import { ApiError } from '../../contract';

/**
 * The slowest an upload may arrive for long: a GiB bundle over a slow link may take an hour
 * (no overall time limit), but a sender that trickles a few bytes holds one of the few places
 * for uploads being received (one-time-files.ts) while others wait.
 */
export const UPLOAD_MIN_BYTES_PER_SECOND = 16 * 1024;
/** How long an upload may stay under that rate before it is cut off. */
export const UPLOAD_SLOW_WINDOW_MS = 30_000;

/** A watch on an upload's rate: told what arrives (`received`), aborting `signal` when too little does. */
export interface UploadRateWatch {
  signal: AbortSignal;
  received(bytes: number): void;
  stop(): void;
}

/**
 * Watches what an upload's writer says arrived: each window that brings less than the minimum
 * rate aborts the signal with UPLOAD_TOO_SLOW. `stop` once the body is done with. (Not a
 * listener on the body itself: one would start it flowing before its writer listens.)
 */
export function watchUploadRate(options: { minBytesPerSecond?: number; windowMs?: number } = {}): UploadRateWatch {
  const minRate = options.minBytesPerSecond ?? UPLOAD_MIN_BYTES_PER_SECOND;
  const windowMs = options.windowMs ?? UPLOAD_SLOW_WINDOW_MS;
  const controller = new AbortController();
  let inWindow = 0;
  const timer = setInterval(() => {
    if (inWindow < (minRate * windowMs) / 1000) {
      stop();
      controller.abort(
        new ApiError(
          'UPLOAD_TOO_SLOW',
          `The upload arrived slower than ${Math.round(minRate / 1024)} KiB/s for ${Math.round(windowMs / 1000)} s and was stopped; nothing was kept.`,
          'Upload again over a faster or steadier connection, or copy the file to the control center and use the desktop app or the sutazai command there.',
        ),
      );
    }
    inWindow = 0;
  }, windowMs);
  const stop = () => clearInterval(timer);
  return { signal: controller.signal, received: (bytes) => void (inWindow += bytes), stop };
}
