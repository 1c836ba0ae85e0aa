/**
 * The anchor of the metric store benchmark: the same samples written as OpenMetrics text,
 * turned into Prometheus TSDB blocks by `promtool tsdb create-blocks-from openmetrics`
 * (Debian's `prometheus` package), and the blocks' size on disk.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const PROMTOOL = 'promtool';
const EOF_LINE = '# EOF\n';

/** A metric name Prometheus accepts: `cpu.percent` -> `cpu_percent`, `1m` -> `_1m`. */
export function openMetricsName(metric: string): string {
  const name = metric.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** One line per metric of `values` for `host` at `tMs` (OpenMetrics timestamps are seconds). */
export function openMetricsLines(host: string, values: Readonly<Record<string, number>>, tMs: number): string {
  const labels = `{host="${host.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"}`;
  const seconds = tMs / 1000;
  let out = '';
  for (const metric in values) out += `${openMetricsName(metric)}${labels} ${values[metric] as number} ${seconds}\n`;
  return out;
}

/** Appends samples to an OpenMetrics file through a buffer; `close()` writes the `# EOF` the format ends with. */
export interface OpenMetricsFile {
  readonly file: string;
  write(host: string, values: Readonly<Record<string, number>>, tMs: number): void;
  close(): void;
}

export function createOpenMetricsFile(file: string, flushAt = 1 << 20): OpenMetricsFile {
  const fd = fs.openSync(file, 'w');
  let buffer = '';
  const flush = () => {
    if (buffer !== '') fs.writeSync(fd, buffer);
    buffer = '';
  };
  return {
    file,
    write(host, values, tMs) {
      buffer += openMetricsLines(host, values, tMs);
      if (buffer.length >= flushAt) flush();
    },
    close() {
      buffer += EOF_LINE;
      flush();
      fs.closeSync(fd);
    },
  };
}

/** Bytes of every regular file under `dir` (apparent sizes, not disk blocks). */
export function treeBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    bytes += fs.statSync(path.join(entry.parentPath, entry.name)).size;
    files += 1;
  }
  return { bytes, files };
}

/** From promtool's block table (BLOCK ULID ... NUM SAMPLES ...): the blocks and the samples they hold. */
export function parsePromtoolBlocks(stdout: string): { blocks: number; samples: number } {
  let blocks = 0;
  let samples = 0;
  for (const line of stdout.split('\n')) {
    // ULID, min time, max time, duration, samples, chunks, series, size
    const match = /^[0-9A-HJKMNP-TV-Z]{26}\s+\d+\s+\d+\s+\S+\s+(\d+)\s+\d+\s+\d+\s+/.exec(line);
    if (match === null) continue;
    blocks += 1;
    samples += Number(match[1]);
  }
  return { blocks, samples };
}

export interface TsdbResult {
  version: string;
  blocks: number;
  samples: number;
  bytes: number;
  files: number;
  ms: number;
}

/** Runs promtool on `input` into `outDir`; an Error says why it could not (not installed, failed). */
export function buildTsdbBlocks(input: string, outDir: string): TsdbResult | Error {
  const version = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0)
    return new Error('promtool is not installed. Remedy: apt-get install prometheus (Debian; promtool comes with it)');
  const started = performance.now();
  const run = spawnSync(PROMTOOL, ['tsdb', 'create-blocks-from', 'openmetrics', input, outDir], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (run.status !== 0) return new Error(`promtool failed (${run.status ?? run.signal}): ${(run.stderr || run.stdout).trim().slice(-800)}`);
  const { blocks, samples } = parsePromtoolBlocks(run.stdout);
  const { bytes, files } = treeBytes(outDir);
  return { version: (version.stdout.split('\n')[0] ?? '').trim(), blocks, samples, bytes, files, ms };
}
