import { describe, expect, it } from 'vitest';
import { EventFeed } from '../../../agents-runtime/src/daemon/event-feed';
import type { RuntimeEvent, RuntimeEventInput } from '../../../agents-runtime/src/daemon/runtime-event';

function input(atMs: number, message = `at ${atMs}`, lastLines?: string[]): RuntimeEventInput {
  return {
    atMs,
    kind: 'process.state',
    process: 'core',
    instance: 'core',
    state: 'running',
    message,
    error: null,
    ...(lastLines ? { lastLines } : {}),
  };
}

const ids = (events: RuntimeEvent[]): string[] => events.map((e) => `${e.runStartedAtMs}:${e.sequence}`);

describe('EventFeed: the runtime events with an identity, a ring and a since-point', () => {
  it('stamps each event with the run and a sequence from 1, and a watcher from 0 gets live events only', () => {
    const feed = new EventFeed(777);
    feed.publish(input(10));
    const seen: RuntimeEvent[] = [];
    const stop = feed.watch(0, (e) => seen.push(e));
    feed.publish(input(11, 'crash', ['a', 'b']));
    stop();
    feed.publish(input(12));
    expect(ids(seen)).toEqual(['777:2']);
    expect(seen[0]).toMatchObject({ message: 'crash', lastLines: ['a', 'b'] });
  });

  it('backfills from the first event at or after the since-point in the order raised, then goes live with nothing lost or repeated', () => {
    const feed = new EventFeed(5);
    for (const at of [100, 200, 200, 300]) feed.publish(input(at));
    // A clock stepped back: raised after 300 but stamped 150; a watcher from 200 still gets it.
    feed.publish(input(150));
    const seen: RuntimeEvent[] = [];
    feed.watch(200, (e) => seen.push(e));
    feed.publish(input(400));
    expect(ids(seen)).toEqual(['5:2', '5:3', '5:4', '5:5', '5:6']);
    const late: RuntimeEvent[] = [];
    feed.watch(1_000, (e) => late.push(e));
    feed.publish(input(401));
    expect(ids(late)).toEqual(['5:7']);
  });

  it('keeps a bounded ring: the oldest go first by count and by the characters they hold', () => {
    const byCount = new EventFeed(1, { maxEvents: 3, maxChars: 1_000_000 });
    for (let at = 1; at <= 5; at += 1) byCount.publish(input(at));
    const seen: RuntimeEvent[] = [];
    byCount.watch(1, (e) => seen.push(e));
    expect(ids(seen)).toEqual(['1:3', '1:4', '1:5']);

    const byChars = new EventFeed(2, { maxEvents: 100, maxChars: 25 });
    byChars.publish(input(1, 'x'.repeat(10)));
    byChars.publish(input(2, 'y', ['z'.repeat(10)]));
    byChars.publish(input(3, 'w'.repeat(10)));
    const kept: RuntimeEvent[] = [];
    byChars.watch(1, (e) => kept.push(e));
    expect(ids(kept)).toEqual(['2:2', '2:3']);
    // One event larger than the budget is still kept (the newest is never dropped).
    byChars.publish(input(4, 'v'.repeat(100)));
    expect(byChars.size).toBe(1);
  });

  it('a watcher that throws does not stop the others', () => {
    const feed = new EventFeed(1);
    const seen: number[] = [];
    feed.watch(0, () => {
      throw new Error('broken');
    });
    feed.watch(0, (e) => seen.push(e.sequence));
    feed.publish(input(1));
    expect(seen).toEqual([1]);
  });
});
