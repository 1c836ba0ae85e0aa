import { describe, expect, it } from 'vitest';
import { jsonForTerminal } from '../../../electron/backend/cli/terminal-output';

describe('CLI output on a terminal', () => {
  it('writes --json with every control and bidi character as a JSON escape, and the same value', () => {
    const value = { model: 'm\x1b]52;c;eA==\x07\u009b2J\u202e\u2066\u2028', n: 1 };
    const text = jsonForTerminal(value);
    // eslint-disable-next-line no-control-regex -- looking for control characters is the test
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028]/);
    expect(text).toContain('\\u001b]52;c;eA==\\u0007\\u009b2J\\u202e\\u2066\\u2028');
    expect(JSON.parse(text)).toEqual(value);
  });
});
