import { saveState, type RuntimeState } from './state-file';

export interface StateWriterOptions {
  file: string;
  /** The state as it is now; read when a save begins, so a burst of changes costs one save. */
  current: () => RuntimeState;
  /** How long a requested save waits for more changes to join it. */
  debounceMs: number;
  /** Told once per episode of failing saves (the next success ends the episode). */
  onFailure: (error: unknown) => void;
}

/**
 * Keeps the state file up to date without blocking the event loop: saves are asynchronous
 * (saveState) and serialized on one chain, at most one waits behind the one in flight, and
 * a requested save whose content equals the last one written is skipped (most state
 * changes touch neither a pid nor the intent). A restart therefore never waits for a disk:
 * a daemon killed before the save still finds the new child by its marker (adopt-or-start's
 * discover), so crash safety does not depend on the save being done first.
 */
export class StateWriter {
  private tail: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  /** A save is on the chain and has not read the state yet: a further request joins it. */
  private queued = false;
  private lastWritten: string | undefined;
  private failing = false;
  private closed = false;

  constructor(private readonly options: StateWriterOptions) {}

  /** Asks for a save soon (debounced, coalesced); a no-op once closed. */
  request(): void {
    if (this.closed || this.timer !== undefined || this.queued) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queued) return;
      this.queued = true;
      this.tail = this.tail.then(() => {
        this.queued = false;
        return this.write(this.options.current(), true);
      });
    }, this.options.debounceMs);
  }

  /** Saves `state` (default: the current one) after any save in flight; resolves once it is on disk or has failed. */
  flush(state?: RuntimeState): Promise<void> {
    this.cancelTimer();
    this.tail = this.tail.then(() => this.write(state ?? this.options.current(), false));
    return this.tail;
  }

  /** No further requested saves; a flush still writes. */
  close(): void {
    this.closed = true;
    this.cancelTimer();
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async write(state: RuntimeState, onlyIfChanged: boolean): Promise<void> {
    const json = JSON.stringify(state);
    if (onlyIfChanged && json === this.lastWritten) return;
    try {
      await saveState(this.options.file, state);
      this.lastWritten = json;
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.options.onFailure(error);
      this.failing = true;
    }
  }
}
