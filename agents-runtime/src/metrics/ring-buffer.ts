/**
 * A fixed-capacity ring of timestamped items, oldest overwritten first. `push` is O(1) and
 * allocates nothing once full; `since` finds the first item by binary search, so a client
 * that reconnects gets its gap in O(log n + k). Items must be pushed in non-decreasing
 * `atMs` order (the sampler's own clock reading per tick); an item older than the newest is
 * refused rather than breaking the search.
 */
export interface Timestamped {
  atMs: number;
}

export const DEFAULT_CAPACITY = 900; // 15 minutes at 1 s

export class RingBuffer<T extends Timestamped> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  /** Index of the oldest item. */
  private head = 0;
  private count = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** false (and nothing stored) when `item` is older than the newest item. */
  push(item: T): boolean {
    const newest = this.newest();
    if (newest !== null && item.atMs < newest.atMs) return false;
    if (this.count < this.capacity) {
      this.items[(this.head + this.count) % this.capacity] = item;
      this.count++;
    } else {
      this.items[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
    }
    return true;
  }

  private at(i: number): T {
    return this.items[(this.head + i) % this.capacity] as T;
  }

  newest(): T | null {
    return this.count === 0 ? null : this.at(this.count - 1);
  }

  oldest(): T | null {
    return this.count === 0 ? null : this.at(0);
  }

  /** Every item with `atMs >= sinceMs`, oldest first (a new array). */
  since(sinceMs: number): T[] {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).atMs < sinceMs) lo = mid + 1;
      else hi = mid;
    }
    const out = new Array<T>(this.count - lo);
    for (let i = lo; i < this.count; i++) out[i - lo] = this.at(i);
    return out;
  }

  toArray(): T[] {
    return this.since(-Infinity);
  }

  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
