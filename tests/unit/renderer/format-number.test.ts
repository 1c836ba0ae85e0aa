import { describe, expect, it } from 'vitest';
import { formatDecimal, formatGhz, formatLinkSpeed, formatPercent, shareOf } from '../../../renderer/src/format/number';

describe('formatPercent', () => {
  it('shows one decimal by default, or as many as asked', () => {
    expect(formatPercent(23.456)).toBe('23.5%');
    expect(formatPercent(100)).toBe('100.0%');
    expect(formatPercent(42.6, 0)).toBe('43%');
  });

  it('refuses nonsense', () => {
    expect(formatPercent(Number.NaN)).toBe('—');
  });
});

describe('shareOf', () => {
  it('is the percentage of the whole, clamped', () => {
    expect(shareOf(25, 100)).toBe(25);
    expect(shareOf(150, 100)).toBe(100);
    expect(shareOf(-1, 100)).toBe(0);
  });

  it('is 0 for an empty whole instead of NaN or Infinity', () => {
    expect(shareOf(5, 0)).toBe(0);
    expect(shareOf(0, 0)).toBe(0);
  });
});

describe('formatDecimal', () => {
  it('keeps about three significant figures', () => {
    expect(formatDecimal(0.4213)).toBe('0.42');
    expect(formatDecimal(12.34)).toBe('12.3');
    expect(formatDecimal(140.2)).toBe('140');
  });
});

describe('formatGhz and formatLinkSpeed', () => {
  it('show what is known and a dash for what is not', () => {
    expect(formatGhz(3.4)).toBe('3.40 GHz');
    expect(formatGhz(null)).toBe('—');
    expect(formatGhz(0)).toBe('—');
    expect(formatLinkSpeed(1000)).toBe('1 Gbit/s');
    expect(formatLinkSpeed(2500)).toBe('2.5 Gbit/s');
    expect(formatLinkSpeed(100)).toBe('100 Mbit/s');
    expect(formatLinkSpeed(null)).toBe('—');
  });
});
