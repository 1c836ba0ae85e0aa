// The two small rules every fleet link shares: how long to wait before trying again
// (doubling, capped, jittered down by at most half) and how many links may be opening a
// connection at once (a bound, with waiting links served in order and able to give up).
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../electron/backend/fleet/link/backoff';
import { createHandshakeSlots } from '../../../electron/backend/fleet/link/handshake-slots';

const policy = { initialMs: 1_000, maxMs: 60_000 };

describe('backoffDelay', () => {
  it('doubles from the first wait up to the cap, and stays there', () => {
    const none = () => 0;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 50, 5_000].map((attempt) => backoffDelay(attempt, policy, none))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000,
    ]);
  });

  it('jitters each wait down by at most half, never up', () => {
    expect(backoffDelay(3, policy, () => 0.999_999)).toBe(4_000);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(6_000);
    expect(backoffDelay(20, policy, () => 0.999_999)).toBe(30_000);
  });
});

describe('handshake slots', () => {
  it('lets `limit` links open at once, the next ones in the order they asked as slots are given back', async () => {
    const slots = createHandshakeSlots(2);
    const signal = new AbortController().signal;
    const order: string[] = [];
    const first = await slots.acquire(signal);
    const second = await slots.acquire(signal);
    const third = slots.acquire(signal).then((release) => (order.push('third'), release));
    const fourth = slots.acquire(signal).then((release) => (order.push('fourth'), release));
    await Promise.resolve();
    expect(order).toEqual([]);
    first();
    first(); // a second release of the same slot frees nothing more
    const releaseThird = await third;
    expect(order).toEqual(['third']);
    second();
    const releaseFourth = await fourth;
    expect(order).toEqual(['third', 'fourth']);
    releaseThird();
    releaseFourth();
    // All given back: two at once again, no more.
    const a = await slots.acquire(signal);
    const b = await slots.acquire(signal);
    let c = false;
    void slots.acquire(signal).then(() => (c = true));
    await Promise.resolve();
    expect(c).toBe(false);
    a();
    b();
  });

  it('lets a waiting link give up, and its place goes to the next', async () => {
    const slots = createHandshakeSlots(1);
    const held = await slots.acquire(new AbortController().signal);
    const quitting = new AbortController();
    const gaveUp = slots.acquire(quitting.signal);
    const next = slots.acquire(new AbortController().signal);
    quitting.abort(new Error('stopped'));
    await expect(gaveUp).rejects.toThrow('stopped');
    held();
    const release = await next;
    release();
    const stopped = new AbortController();
    stopped.abort(new Error('already stopped'));
    await expect(slots.acquire(stopped.signal)).rejects.toThrow('already stopped');
  });
});
