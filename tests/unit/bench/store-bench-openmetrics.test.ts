import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../support/temp-dir';
import {
  createOpenMetricsFile,
  openMetricsLines,
  openMetricsName,
  parsePromtoolBlocks,
  treeBytes,
} from '../../bench/store-bench-openmetrics';

const dir = makeTempDir();
afterAll(() => dir.remove());

describe('openMetricsName', () => {
  it('turns our dotted metric names into names Prometheus accepts', () => {
    expect(openMetricsName('cpu.percent')).toBe('cpu_percent');
    expect(openMetricsName('proc.core.rss_bytes')).toBe('proc_core_rss_bytes');
    expect(openMetricsName('1m.load')).toBe('_1m_load');
  });
});

describe('openMetricsLines', () => {
  it('writes one sample line per metric with the host label and the time in seconds', () => {
    expect(openMetricsLines('bench-0', { 'cpu.percent': 12.5, 'mem.used_bytes': 4000000000 }, 1735689601000)).toBe(
      'cpu_percent{host="bench-0"} 12.5 1735689601\nmem_used_bytes{host="bench-0"} 4000000000 1735689601\n',
    );
  });

  it('escapes a label value as the format requires and keeps sub-second times', () => {
    expect(openMetricsLines('a"b\\c', { x: 1 }, 1500)).toBe('x{host="a\\"b\\\\c"} 1 1.5\n');
  });
});

describe('createOpenMetricsFile', () => {
  it('writes every sample in order through its buffer and ends with # EOF', () => {
    const file = path.join(dir.path, 'samples.om');
    const out = createOpenMetricsFile(file, 16);
    out.write('h1', { a: 1 }, 1000);
    out.write('h2', { a: 2, b: 3 }, 2000);
    out.close();
    expect(fs.readFileSync(file, 'utf8')).toBe('a{host="h1"} 1 1\na{host="h2"} 2 2\nb{host="h2"} 3 2\n# EOF\n');
  });
});

describe('parsePromtoolBlocks', () => {
  it("sums the samples of every block row of promtool's table and ignores the rest", () => {
    const stdout = [
      'BLOCK ULID                  MIN TIME       MAX TIME       DURATION     NUM SAMPLES  NUM CHUNKS   NUM SERIES   SIZE',
      '01M9318H56JR518YJZ6KCE6W6A  1735689601000  1735689602001  1.001s       4            2            2            729',
      '01M9318H56JR518YJZ6KCE6W6B  1735696800000  1735704000000  2h0m0s       720000       6000         100          1234567',
      '',
    ].join('\n');
    expect(parsePromtoolBlocks(stdout)).toEqual({ blocks: 2, samples: 720004 });
    expect(parsePromtoolBlocks('')).toEqual({ blocks: 0, samples: 0 });
  });
});

describe('treeBytes', () => {
  it('sums the sizes of every file below a directory', () => {
    const root = path.join(dir.path, 'tree');
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'one'), 'x'.repeat(10));
    fs.writeFileSync(path.join(root, 'a', 'b', 'two'), 'y'.repeat(5));
    expect(treeBytes(root)).toEqual({ bytes: 15, files: 2 });
  });
});
