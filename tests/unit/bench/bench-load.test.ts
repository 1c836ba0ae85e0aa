import { describe, expect, it } from 'vitest';
import { formatLoad, parseLoadavg } from '../../bench/bench-load';

describe('parseLoadavg', () => {
  it('reads the three averages and the runnable/total counts of /proc/loadavg', () => {
    expect(parseLoadavg('2.40 1.87 1.89 6/120 11133\n')).toEqual({ one: 2.4, five: 1.87, fifteen: 1.89, running: 6, total: 120 });
  });

  it('refuses text that is not a load line', () => {
    expect(parseLoadavg('')).toBeNull();
    expect(parseLoadavg('2.40 1.87 6/120 11133')).toBeNull();
    expect(parseLoadavg('a b c 1/2 3')).toBeNull();
  });

  it('formats the averages with what they mean, and says when they are unknown', () => {
    expect(formatLoad(parseLoadavg('10.11 4.75 2.93 15/244 18141'))).toBe('10.11 4.75 2.93 (1, 5, 15 min; 15 runnable of 244)');
    expect(formatLoad(null)).toMatch(/unknown/);
  });
});
