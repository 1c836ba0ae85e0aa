import { describe, expect, it } from 'vitest';
import { parseLogLine } from '../../../agents-runtime/src/logs/log-tail';
import { resolveCommand } from '../../../agents-runtime/src/process/resolve-command';

describe('parseLogLine', () => {
  it('splits a stamped line into time, stream and text', () => {
    expect(parseLogLine('2025-05-03T10:00:00.123Z err boom: a b')).toEqual({
      time: '2025-05-03T10:00:00.123Z',
      stream: 'err',
      text: 'boom: a b',
    });
  });
  it('keeps a raw line whole', () => {
    expect(parseLogLine('plain output')).toEqual({ time: null, stream: null, text: 'plain output' });
  });
});

describe('resolveCommand', () => {
  it('finds a bare name in PATH and refuses a missing one with a remedy', () => {
    expect(resolveCommand('sh', '/nonexistent:/bin:/usr/bin', '/')).toMatch(/\/sh$/);
    expect(() => resolveCommand('sutazai-nope', '/bin', '/')).toThrow(expect.objectContaining({ code: 'COMMAND_NOT_FOUND' }));
    expect(() => resolveCommand('/etc', undefined, '/')).toThrow(expect.objectContaining({ code: 'COMMAND_NOT_FOUND' }));
  });
});
