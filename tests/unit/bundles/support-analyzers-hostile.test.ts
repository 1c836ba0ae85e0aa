// The memory and certificate analyzers on a hostile bundle (review of issue 15 item 4): a
// bundle is anyone's file, so a reading's time past what a Date holds, or more readings than
// a call's arguments may number, must be passed over like any other malformed item, never
// end the analysis with a RangeError.
import { describe, expect, it } from 'vitest';
import { analyzeSupportBundle } from '../../../electron/backend/bundles/support-bundles/support-analyzers';
import type { SupportArchive } from '../../../electron/backend/bundles/support-bundles/support-archive';

const COLLECTED = Date.UTC(2026, 11, 6);

function archive(files: Record<string, unknown>): SupportArchive {
  return {
    manifest: {
      kind: 'sutazai-support-bundle',
      format: 1,
      targetName: 'lab',
      collectedAtMs: COLLECTED,
      versions: {},
      files: [],
      redaction: { addresses: false, hostNames: false, rules: [], countsByRule: {} },
      gaps: [],
    },
    files: new Map(Object.entries(files).map(([name, value]) => [name, JSON.stringify(value)])),
  };
}

describe('support analyzers on hostile values', () => {
  it('passes over a memory reading or a certificate whose time no Date holds, and still reports the well-formed ones', () => {
    const findings = analyzeSupportBundle(
      archive({
        'hosts/h1/memory.json': {
          points: [
            [1e300, 99, 98, 99],
            [COLLECTED - 60_000, 95, 94, 97],
          ],
        },
        'hosts/h1/certificates.json': [
          { installName: 'lab', what: 'runtime certificate', notAfterMs: 1e300 },
          { installName: 'lab', what: 'runtime certificate', notAfterMs: -1e300 },
          { installName: 'lab', what: 'install CA', notAfterMs: COLLECTED + 3 * 86_400_000 },
        ],
      }),
    );
    const memory = findings.filter((f) => f.analyzer === 'memory-pressure');
    expect(memory).toHaveLength(1);
    expect(memory[0]!.summary).toContain('1 of 1 readings');
    const certificates = findings.filter((f) => f.analyzer === 'certificate-expiry');
    expect(certificates.map((f) => f.summary)).toEqual([
      `the install lab's CA expires in 3 days (${new Date(COLLECTED + 3 * 86_400_000).toISOString()})`,
    ]);
  });

  it('takes the peak of more readings than a call may have arguments', () => {
    const points = Array.from({ length: 300_000 }, (_, i) => [COLLECTED - (300_000 - i) * 1000, 95, 94, i === 7 ? 100 : 96]);
    const findings = analyzeSupportBundle(archive({ 'hosts/h1/memory.json': { points } }));
    const memory = findings.filter((f) => f.analyzer === 'memory-pressure');
    expect(memory).toHaveLength(1);
    expect(memory[0]!.summary).toContain('300000 of 300000 readings (peak 100%');
  });
});
