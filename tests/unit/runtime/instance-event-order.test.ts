import { describe, expect, it } from 'vitest';
import { InstanceEventOrder } from '../../../agents-runtime/src/daemon/instance-event-order';
import type { RuntimeEventInput } from '../../../agents-runtime/src/daemon/runtime-event';

function event(instance: string, kind: string): RuntimeEventInput {
  return { atMs: 1, kind, process: instance, instance, state: null, message: kind, error: null };
}

/** A promise the test settles by hand. */
function later<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('InstanceEventOrder', () => {
  it('publishes at once while nothing waits; an instance’s later events wait behind one still being made, other instances’ do not', async () => {
    const out: string[] = [];
    const order = new InstanceEventOrder((e) => out.push(`${e.instance} ${e.kind}`));
    order.push('a', event('a', 'state'));
    expect(out).toEqual(['a state']);

    const exit = later<RuntimeEventInput>();
    order.push('a', exit.promise);
    order.push('a', event('a', 'state starting'));
    order.push('b', event('b', 'state'));
    await settle();
    expect(out).toEqual(['a state', 'b state']);

    exit.resolve(event('a', 'exit'));
    await settle();
    expect(out).toEqual(['a state', 'b state', 'a exit', 'a state starting']);

    // Nothing waits any more: published at once again.
    order.push('a', event('a', 'state running'));
    expect(out.at(-1)).toBe('a state running');
  });

  it('drops an event whose making failed, and publishes the ones behind it', async () => {
    const out: string[] = [];
    const order = new InstanceEventOrder((e) => out.push(e.kind));
    const failing = later<RuntimeEventInput>();
    order.push('a', failing.promise);
    order.push('a', event('a', 'after'));
    failing.reject(new Error('unreadable'));
    await settle();
    expect(out).toEqual(['after']);
  });
});
