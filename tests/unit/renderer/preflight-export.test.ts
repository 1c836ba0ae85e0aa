import { describe, expect, it } from 'vitest';
import { fileTimestamp, reportFileName } from '../../../renderer/src/preflight/export-report';
import { jsonFileText } from '../../../renderer/src/ui/download-json-button';
import { countOutcomes, describeCounts, worstFirst } from '../../../renderer/src/preflight/outcomes';

describe('preflight export', () => {
  it('names the file after profile, subject and local time, safe on every OS', () => {
    const at = new Date(2025, 10, 26, 14, 3, 27).getTime();
    expect(fileTimestamp(at)).toBe('20251126-140327');
    expect(reportFileName('agent', 'db-2', at)).toBe('preflight-agent-db-2-20251126-140327.json');
    expect(reportFileName('agent gpu', '../x:y', at)).toBe('preflight-agent-gpu-x-y-20251126-140327.json');
  });

  it('writes indented JSON that reads back to the same report', () => {
    const report = { profile: 'agent', hosts: [{ hostId: 1, checks: [] }] };
    const text = jsonFileText(report);
    expect(JSON.parse(text)).toEqual(report);
    expect(text).toContain('\n  "profile": "agent"');
  });
});

describe('preflight outcomes', () => {
  const checks = [{ outcome: 'pass' as const }, { outcome: 'fail' as const }, { outcome: 'warn' as const }, { outcome: 'pass' as const }];

  it('counts and words them worst first', () => {
    expect(countOutcomes(checks)).toEqual({ pass: 2, warn: 1, fail: 1 });
    expect(describeCounts(countOutcomes(checks))).toBe('1 fail, 1 warn, 2 pass');
    expect(describeCounts(countOutcomes([]))).toBe('no checks');
  });

  it('sorts failures first and keeps the analyzers’ order within an outcome', () => {
    const named = checks.map((c, i) => ({ ...c, id: i }));
    expect(worstFirst(named).map((c) => c.id)).toEqual([1, 2, 0, 3]);
  });
});
