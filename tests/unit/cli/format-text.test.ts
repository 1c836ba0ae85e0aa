import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../../../electron/backend/cli/exit-codes';
import { formatBytes, formatTable } from '../../../electron/backend/cli/format-text';

describe('CLI text', () => {
  it('formats bytes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(25276502016)).toBe('23.5 GiB');
    expect(formatBytes(null)).toBe('unknown');
  });

  it('pads table columns to the widest cell', () => {
    expect(formatTable(['A', 'LONG'], [['xyz', '1']])).toBe('A    LONG\nxyz  1');
  });

  it('gives each failure class its own exit code', () => {
    expect(exitCodeFor('BAD_PARAMS')).toBe(2);
    expect(exitCodeFor('HOST_NOT_FOUND')).toBe(3);
    expect(exitCodeFor('STORE_NEWER_VERSION')).toBe(4);
    expect(exitCodeFor('PROBE_FAILED')).toBe(5);
    // Every bundle refusal is 11; a downgrade not asked for is refused input, 2.
    for (const code of ['BUNDLE_CORRUPT', 'BUNDLE_UNEXPECTED_FILE', 'BUNDLE_CHECKSUM_MISMATCH', 'BUNDLE_VERSION_CONFLICT'] as const)
      expect(exitCodeFor(code), code).toBe(11);
    expect(exitCodeFor('INSTALL_DOWNGRADE_REFUSED')).toBe(2);
    expect(exitCodeFor('INTERNAL')).toBe(1);
  });
});
