import { describe, expect, it } from 'vitest';
import { createLimiter, createRollout } from '../../../electron/backend/install/engine/rollout';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the limiter', () => {
  it('lets `limit` in at once, the others in their order as slots come back', async () => {
    const limiter = createLimiter(2);
    const order: string[] = [];
    const give: Array<() => void> = [];
    for (const name of ['a', 'b', 'c', 'd']) {
      void limiter.acquire().then((release) => {
        order.push(name);
        give.push(release);
      });
    }
    await tick();
    expect(order).toEqual(['a', 'b']);
    give[0]!();
    give[0]!(); // given back once only
    await tick();
    expect(order).toEqual(['a', 'b', 'c']);
    give[1]!();
    await tick();
    expect(order).toEqual(['a', 'b', 'c', 'd']);
  });
});

describe('the rollout', () => {
  it('gives each host its turn once every host before it settled, and stops the rest at the first failure', async () => {
    const rollout = createRollout(3);
    const turns: Array<[number, string | null]> = [];
    for (const index of [2, 1, 0]) void rollout.turn(index).then((stopper) => turns.push([index, stopper]));
    await tick();
    expect(turns).toEqual([[0, null]]);
    rollout.settle(0, null);
    await tick();
    expect(turns).toEqual([
      [0, null],
      [1, null],
    ]);
    rollout.settle(1, 'db-2');
    rollout.settle(1, null); // settled once
    await tick();
    expect(turns).toEqual([
      [0, null],
      [1, null],
      [2, 'db-2'],
    ]);
    expect(rollout.stoppedBy).toBe('db-2');
  });
});
