import { describe, expect, it } from 'vitest';
import { ClockSkewEstimator } from '../../../electron/backend/fleet/metrics/clock-skew';

describe('clock skew from streamed samples', () => {
  it('takes the sample that waited least: backfilled samples do not drag the estimate down once a live one came', () => {
    const skew = new ClockSkewEstimator(5);
    expect(skew.estimate()).toBeNull();
    // The host is 300 s ahead. Backfill: samples 60 s, 30 s old on arrival.
    expect(skew.add(1_000_000 + 300_000 - 60_000, 1_000_000)).toBe(240_000);
    expect(skew.add(1_000_010 + 300_000 - 30_000, 1_000_010)).toBe(270_000);
    // Live samples, 40 ms and 5 ms on the way.
    expect(skew.add(1_000_020 + 300_000 - 40, 1_000_020)).toBe(299_960);
    expect(skew.add(1_001_020 + 300_000 - 5, 1_001_020)).toBe(299_995);
    expect(skew.add(1_002_020 + 300_000 - 900, 1_002_020)).toBe(299_995);
  });

  it('forgets samples older than its window, so a clock that was corrected is followed', () => {
    const skew = new ClockSkewEstimator(2);
    skew.add(10_000, 0);
    skew.add(10_000, 1_000);
    // The host's clock was stepped back by NTP: after two samples the old reading is gone.
    skew.add(2_010, 2_000);
    expect(skew.add(3_010, 3_000)).toBe(10);
    expect(() => new ClockSkewEstimator(0)).toThrow(RangeError);
  });
});
