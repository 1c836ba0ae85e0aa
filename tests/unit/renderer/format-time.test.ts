import { describe, expect, it } from 'vitest';
import { formatClock, formatDateTime, formatRelativeTime } from '../../../renderer/src/format/time';

const now = Date.UTC(2025, 10, 26, 12, 0, 0);

describe('formatRelativeTime', () => {
  it('says just now for the last few seconds', () => {
    expect(formatRelativeTime(now, now)).toBe('just now');
    expect(formatRelativeTime(now - 4_999, now)).toBe('just now');
  });

  it('counts seconds, minutes, hours and days, rounding down', () => {
    expect(formatRelativeTime(now - 42_000, now)).toBe('42 s ago');
    expect(formatRelativeTime(now - 3 * 60_000 - 59_000, now)).toBe('3 min ago');
    expect(formatRelativeTime(now - 5 * 3_600_000, now)).toBe('5 h ago');
    expect(formatRelativeTime(now - 2 * 86_400_000, now)).toBe('2 d ago');
  });

  it('never says a time is to come: one newer than the window’s last tick is just now, a clock ahead says so', () => {
    expect(formatRelativeTime(now + 2_000, now)).toBe('just now');
    // The window's clock ticks every 10 s: a time stamped since its last tick is newer than its now.
    expect(formatRelativeTime(now + 9_999, now)).toBe('just now');
    expect(formatRelativeTime(now + 60_000, now)).toBe('just now');
    expect(formatRelativeTime(now + 3 * 60_000, now)).toBe('3 min ahead of this clock');
    for (const ahead of [1, 5_000, 59_000, 61_000, 3_600_000, 2 * 86_400_000])
      expect(formatRelativeTime(now + ahead, now)).not.toMatch(/^in /);
  });
});

describe('formatClock and formatDateTime', () => {
  it('use 24-hour local time with leading zeros', () => {
    const t = new Date(2025, 0, 5, 9, 7, 3).getTime();
    expect(formatClock(t)).toBe('09:07:03');
    expect(formatDateTime(t)).toBe('2025-01-05 09:07:03');
  });
});
