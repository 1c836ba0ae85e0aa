import { afterAll, beforeAll } from 'vitest';

/** Registers what undoes one part of a set-up; it runs even when a later part failed. */
export type Defer = (undo: () => unknown) => void;

/**
 * A test file's shared set-up, once before its tests (beforeAll), and its undoing: every
 * step `setUp` deferred runs, newest first, after the tests (afterAll) or at once when the
 * set-up failed part-way. A failing undo step does not keep the others from running.
 */
export function setUpSuite(setUp: (defer: Defer) => Promise<void>, timeouts: { setUpMs?: number; undoMs?: number } = {}): void {
  const undo: Array<() => unknown> = [];
  const undoAll = async () => {
    for (let step = undo.pop(); step; step = undo.pop())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  };
  beforeAll(async () => {
    try {
      await setUp((step) => undo.push(step));
    } catch (error) {
      await undoAll();
      throw error;
    }
  }, timeouts.setUpMs);
  afterAll(undoAll, timeouts.undoMs);
}
