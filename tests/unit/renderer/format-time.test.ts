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

  it('treats small clock skew as now, and a real future time as future', () => {
    expect(formatRelativeTime(now + 2_000, now)).toBe('just now');
    expect(formatRelativeTime(now + 3 * 60_000, now)).toBe('in 3 min');
  });
});

describe('formatClock and formatDateTime', () => {
  it('use 24-hour local time with leading zeros', () => {
    const t = new Date(2025, 0, 5, 9, 7, 3).getTime();
    expect(formatClock(t)).toBe('09:07:03');
    expect(formatDateTime(t)).toBe('2025-01-05 09:07:03');
  });
});
