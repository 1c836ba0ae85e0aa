// A tail by bytes (TailLogs' max_bytes, issue 15 item 4): a support bundle asks for the last
// N MiB of each log, and a tail by lines stops at 10,000 lines, far short of N MiB when the
// lines are short. The tail by bytes keeps the last whole lines within the bytes, the newest
// one included, on into the rotated files, read from the files themselves and from the
// shipped daemon over gRPC and TLS.
import type * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/LogLine';
import type { RuntimeClient } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/Runtime';
import type { TailLogsRequest } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/TailLogsRequest';
import { LogFiles } from '../../../agents-runtime/src/logs/log-files';
import { TAIL_BYTES_CAP, TAIL_MAX_LINES, tailBytes } from '../../../agents-runtime/src/logs/log-tail';
import type { RuntimeCerts } from '../../support/runtime-certs';
import {
  daemonLayout,
  instanceLeaders,
  killDaemonsAndInstances,
  prepareBundledDaemon,
  QUIET_MANIFEST,
  runtimeClient,
  startBundledDaemon,
} from '../../support/runtime-daemon-harness';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const tmp = makeTempDir('sutazai-log-tail-bytes-');
afterAll(() => tmp.remove());
/** Each line `2026-01-01T00:00:00.000Z out 000123` and its newline: 36 bytes. */
const LINE_BYTES = 36;
const stamped = (i: number) => `2026-01-01T00:00:00.000Z out ${String(i).padStart(6, '0')}`;
const linesText = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `${stamped(from + k)}\n`).join('');
const textsOf = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => String(from + k).padStart(6, '0'));

describe('a tail by bytes, from the files', () => {
  const files = new LogFiles(`${tmp.path}/files`, { maxFileBytes: 64 * 1024 * 1024, keepFiles: 2 });

  it('keeps the last whole lines within the bytes, on into .log.1, past the 10,000 lines of a tail by lines', () => {
    files.ensureWritable();
    fs.writeFileSync(files.rotatedPath('p', 1), linesText(0, 20_000));
    fs.writeFileSync(files.logPath('p'), linesText(20_000, 30_000));
    // 13,000 lines exactly: the byte before the budget is a newline, so the oldest kept line just fits.
    const exact = tailBytes(files, 'p', 13_000 * LINE_BYTES);
    expect(exact.map((l) => l.text)).toEqual(textsOf(17_000, 30_000));
    expect(exact.length).toBeGreaterThan(TAIL_MAX_LINES);
    // One byte less: that line would be cut, and is left out whole.
    expect(tailBytes(files, 'p', 13_000 * LINE_BYTES - 1).map((l) => l.text)).toEqual(textsOf(17_001, 30_000));
    // Within the live file alone, and more than both hold.
    expect(tailBytes(files, 'p', 100 * LINE_BYTES + 35).map((l) => l.text)).toEqual(textsOf(29_900, 30_000));
    expect(tailBytes(files, 'p', TAIL_BYTES_CAP * 2).map((l) => l.text)).toEqual(textsOf(0, 30_000));
    // A last line longer than the budget: nothing fits.
    expect(tailBytes(files, 'p', 10)).toEqual([]);
    expect(tailBytes(files, 'missing', 1000)).toEqual([]);
  });

  it('a half-written last line counts and comes (it may be all a crash left); a gap before the live file stops it there', () => {
    fs.writeFileSync(files.logPath('q'), `${linesText(0, 3)}${stamped(3)}`);
    expect(tailBytes(files, 'q', 2 * LINE_BYTES + 35).map((l) => l.text)).toEqual(textsOf(1, 4));
    // The budget ends inside the live file: .log.1 is not read, though the budget left would take its last line.
    fs.writeFileSync(files.rotatedPath('r', 1), linesText(0, 10));
    fs.writeFileSync(files.logPath('r'), `${'x'.repeat(100)}\n${linesText(10, 12)}`);
    expect(tailBytes(files, 'r', 2 * LINE_BYTES + 50).map((l) => l.text)).toEqual(textsOf(10, 12));
  });

  it('a live file one byte over the budget loses its first line only, and the older file is not read past it', () => {
    fs.writeFileSync(files.rotatedPath('s', 1), linesText(0, 10));
    fs.writeFileSync(files.logPath('s'), linesText(10, 13));
    expect(tailBytes(files, 's', 3 * LINE_BYTES - 1).map((l) => l.text)).toEqual(textsOf(11, 13));
  });
});

describe('TailLogs with max_bytes, from the shipped daemon (real TLS)', () => {
  const root = `${tmp.path}/daemon`;
  const layout = daemonLayout(root);
  const { bundle, logDir, configFile, runtimeId } = layout;
  const daemons: ReturnType<typeof startBundledDaemon>['child'][] = [];
  let certs: RuntimeCerts | undefined;
  let client: RuntimeClient;
  const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 100, retryErrors: true });

  beforeAll(async () => {
    const prepared = await prepareBundledDaemon(layout, QUIET_MANIFEST, [
      'logs: { max_file_bytes: 8388608, keep_files: 2, max_total_bytes: 33554432 }',
    ]);
    certs = prepared.certs;
    const daemon = startBundledDaemon(bundle, configFile, root);
    daemons.push(daemon.child);
    await waitFor('the daemon to be ready', () => {
      if (daemon.child.exitCode !== null) throw new Error(`daemon exited ${daemon.child.exitCode}: ${JSON.stringify(daemon.lines)}`);
      return daemon.lines.some((l) => l.msg === 'sutazai-runtime ready');
    });
    client = runtimeClient(prepared.port, prepared.certs.ca.certPem, prepared.certs.viewer);
    // The instance is known (it runs) before its log is filled: a tail of an unknown instance is
    // refused. Its process group is the sign: a program that writes nothing makes no log file
    // (the collector creates it at the first line).
    await waitFor('quiet running', () => ([...instanceLeaders(runtimeId).keys()].some((i) => i.startsWith('quiet')) ? true : undefined));
  }, 180_000);

  afterAll(() => {
    (client as unknown as grpc.Client | undefined)?.close();
    killDaemonsAndInstances(daemons, runtimeId);
    certs?.remove();
  });

  const tailOf = (request: TailLogsRequest): Promise<string[]> =>
    new Promise((resolve, reject) => {
      const got: string[] = [];
      const s = client.TailLogs(request, { deadline: Date.now() + 30_000 });
      s.on('data', (line: LogLine__Output) => got.push(line.text));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });

  it('answers the last whole lines within max_bytes, not the 10,000 lines asked with them; without it, by lines', async () => {
    // The program writes nothing, so its log file is the one this test writes.
    const instance = [...instanceLeaders(runtimeId).keys()].find((i) => i.startsWith('quiet'))!;
    const logFile = `${logDir}/${instance}.log`;
    fs.appendFileSync(logFile, linesText(0, 30_000));
    const byBytes = await tailOf({ instance, lines: TAIL_MAX_LINES, follow: false, maxBytes: 13_000 * LINE_BYTES });
    expect(byBytes).toEqual(textsOf(17_000, 30_000));
    const byLines = await tailOf({ instance, lines: TAIL_MAX_LINES, follow: false });
    expect(byLines).toEqual(textsOf(20_000, 30_000));
  }, 60_000);
});
