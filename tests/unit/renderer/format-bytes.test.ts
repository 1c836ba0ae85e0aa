import { describe, expect, it } from 'vitest';
import { formatByteRate, formatBytes } from '../../../renderer/src/format/bytes';

describe('formatBytes', () => {
  it('uses binary units with one decimal below 100', () => {
    expect(formatBytes(23.4 * 1024 ** 3)).toBe('23.4 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1024 ** 2)).toBe('1.0 MiB');
  });

  it('drops the decimal from 100 up, so columns stay short', () => {
    expect(formatBytes(512 * 1024 ** 2)).toBe('512 MiB');
    expect(formatBytes(100 * 1024 ** 4)).toBe('100 TiB');
  });

  it('shows whole bytes below one KiB', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1)).toBe('1 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('moves to the next unit instead of printing 1024 of the smaller one', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.0 MiB');
    expect(formatBytes(1024 ** 3 - 10 * 1024)).toBe('1.0 GiB');
  });

  it('formats a typical machine memory size the way free -h does', () => {
    expect(formatBytes(16_647_319_552)).toBe('15.5 GiB');
  });

  it('keeps the sign and refuses nonsense', () => {
    expect(formatBytes(-2048)).toBe('-2.0 KiB');
    expect(formatBytes(Number.NaN)).toBe('—');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('formatByteRate', () => {
  it('adds per second', () => {
    expect(formatByteRate(1.2 * 1024 ** 2)).toBe('1.2 MiB/s');
    expect(formatByteRate(0)).toBe('0 B/s');
  });
});
