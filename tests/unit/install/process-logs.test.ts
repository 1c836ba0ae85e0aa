import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastLogLines } from '../../../electron/backend/install/health/process-logs';
import type { RemoteShell } from '../../../electron/backend/install/remote/remote-shell';
import { makeTempDir } from '../../support/temp-dir';

// The script runs in the shells a host may have, on real files; only the SSH hop is left out.
const SHELLS = [['/bin/sh'], ['/usr/bin/busybox', 'sh']].filter((argv) => fs.existsSync(argv[0]!));

function localShell(argv: string[]): RemoteShell {
  return {
    privilege: 'root',
    async run(script) {
      const result = spawnSync(argv[0]!, [...argv.slice(1), '-c', script.text], { encoding: 'utf8', timeout: 20_000 });
      return { code: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

let tmp: ReturnType<typeof makeTempDir>;
let lock: string;
beforeEach(() => {
  tmp = makeTempDir('sutazai-logs-');
  lock = path.join(tmp.path, 'sutazai-runtime.lock');
  fs.writeFileSync(lock, '{"pid":1,"startTime":"1"}');
  // The daemon that runs now started at 12:00:05 UTC.
  const started = new Date('2026-11-26T12:00:05.400Z');
  fs.utimesSync(lock, started, started);
});
afterEach(() => tmp.remove());

describe.each(SHELLS)('the last log lines read by %s', (...argv) => {
  it('leave out what an earlier daemon (release, configuration) wrote to the same file', async () => {
    fs.writeFileSync(
      path.join(tmp.path, 'core.log'),
      [
        '2026-11-26T11:59:58.000Z out old release: listening',
        '2026-11-26T12:00:04.999Z err old release: stopping',
        '2026-11-26T12:00:05.100Z out new release: starting',
        'a continuation line without a stamp',
        '2026-11-26T12:00:06.000Z err new release: cannot bind 198.18.255.254:7700',
        '',
      ].join('\n'),
    );
    const text = await lastLogLines({
      shell: localShell(argv),
      asRoot: false,
      logDir: tmp.path,
      lockFile: lock,
      instances: ['core'],
      daemon: null,
    });
    expect(text).toBe(
      [
        `last lines of core (since the runtime started at 2026-11-26T12:00:05Z, ${tmp.path}/core.log):`,
        '  2026-11-26T12:00:05.100Z out new release: starting',
        '  a continuation line without a stamp',
        '  2026-11-26T12:00:06.000Z err new release: cannot bind 198.18.255.254:7700',
      ].join('\n'),
    );
  });

  it('show the plain last lines when the lines carry no stamps or no lock tells the start', async () => {
    fs.writeFileSync(path.join(tmp.path, 'agent-1.log'), 'raw line one\nraw line two\n');
    const raw = await lastLogLines({
      shell: localShell(argv),
      asRoot: false,
      logDir: tmp.path,
      lockFile: lock,
      instances: ['agent-1'],
      daemon: null,
      lines: 1,
    });
    expect(raw).toBe(`last lines of agent-1 (${tmp.path}/agent-1.log):\n  raw line two`);
    fs.writeFileSync(path.join(tmp.path, 'core.log'), '2026-11-26T11:00:00.000Z out from before\n');
    const noLock = await lastLogLines({
      shell: localShell(argv),
      asRoot: false,
      logDir: tmp.path,
      lockFile: path.join(tmp.path, 'missing.lock'),
      instances: ['core'],
      daemon: null,
    });
    expect(noLock).toBe(`last lines of core (${tmp.path}/core.log):\n  2026-11-26T11:00:00.000Z out from before`);
  });
});
