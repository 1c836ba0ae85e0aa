import { describe, expect, it } from 'vitest';
import { negativeCountLast, parseSince } from '../../../electron/backend/cli/fleet-commands';

describe('the fleet commands’ arguments', () => {
  it('passes a negative replica count to scale as the count it is, so the backend can name the range', () => {
    expect(negativeCountLast(['scale', 'core-1', 'agent', '-1', '--json'])).toEqual(['scale', 'core-1', 'agent', '--json', '--', '-1']);
    expect(negativeCountLast(['scale', 'core-1', 'agent', '3'])).toEqual(['scale', 'core-1', 'agent', '3']);
    // Only scale takes a number that may be negative.
    expect(negativeCountLast(['logs', 'core-1', 'agent-1', '-1'])).toEqual(['logs', 'core-1', 'agent-1', '-1']);
  });

  it('reads --since as a time or a span back from now, and refuses anything else', () => {
    const now = Date.parse('2026-01-31T12:00:00Z');
    expect(parseSince('10m', now)).toBe(now - 600_000);
    expect(parseSince('2h', now)).toBe(now - 7_200_000);
    expect(parseSince('1d', now)).toBe(now - 86_400_000);
    expect(parseSince('2026-01-31T11:00:00Z', now)).toBe(now - 3_600_000);
    expect(() => parseSince('yesterday', now)).toThrow(expect.objectContaining({ code: 'BAD_PARAMS' }));
    expect(() => parseSince('10', now)).toThrow(expect.objectContaining({ code: 'BAD_PARAMS' }));
  });
});
