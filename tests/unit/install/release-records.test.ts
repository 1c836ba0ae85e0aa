// Which releases a host keeps, which one a rollback returns to, and what uninstall removes:
// decided from the store's record, pure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { installLayout, recordedLayout } from '../../../electron/backend/install/definition/install-layout';
import { formatLogSections } from '../../../electron/backend/install/health/process-logs';
import { pruneReleasesScript, releasesToPrune } from '../../../electron/backend/install/steps/prune-releases';
import { chooseRollbackTarget } from '../../../electron/backend/install/engine/recorded-host-ops';
import { keyedScript, readRecords } from '../../../electron/backend/install/remote/script-prelude';
import type { ShellScript } from '../../../electron/backend/install/remote/shell-script';
import { pathsToRemove } from '../../../electron/backend/install/steps/uninstall-host';
import type { HostReleaseRow, ReleaseState } from '../../../electron/backend/store/host-releases-repo';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-release-records-');
afterAll(() => tmp.remove());

function row(version: string, state: ReleaseState, installedAt: number): HostReleaseRow {
  return { hostId: 1, installId: 1, version, bundleSha256: 'a'.repeat(64), path: `/opt/sutazai/releases/${version}`, state, installedAt };
}

/** Runs a changing script here as a host would, with its record key; answers its exit, stderr and records. */
function runKeyed(script: ShellScript) {
  const keyed = keyedScript(script);
  const run = spawnSync('sh', ['-c', keyed.script.text], { encoding: 'utf8' });
  return { status: run.status, stderr: run.stderr, ...readRecords(run.stdout, keyed.key) };
}

describe('pruning', () => {
  it('keeps install.releases_kept releases, the most recently active first, and never the current or the previous one', () => {
    const rows = [
      row('0.1.0', 'previous', 1),
      row('0.2.0', 'previous', 2),
      row('0.3.0', 'failed', 3),
      row('0.4.0', 'previous', 4),
      row('0.5.0', 'current', 5),
    ];
    expect(releasesToPrune(rows, 3).map((r) => r.version)).toEqual(['0.2.0', '0.1.0']);
    expect(releasesToPrune(rows, 2).map((r) => r.version)).toEqual(['0.3.0', '0.2.0', '0.1.0']);
    // One kept is no reason to lose the release a rollback returns to.
    expect(releasesToPrune(rows, 1).map((r) => r.version)).toEqual(['0.3.0', '0.2.0', '0.1.0']);
    expect(releasesToPrune(rows, 20)).toEqual([]);
  });

  it('removes the directories on the host, never the one current points at', () => {
    const layout = installLayout(
      loadInstallConfig({ install: [{ name: 'i.yaml', text: `install: { root_dir: ${path.join(tmp.path, 'opt')} }\n` }] }).config,
      'system',
      '/root',
    );
    for (const v of ['0.1.0', '0.2.0', '0.3.0']) fs.mkdirSync(path.join(layout.releases, v, 'runtime'), { recursive: true });
    fs.symlinkSync('releases/0.3.0', layout.current);
    const run = runKeyed(pruneReleasesScript(layout, ['0.1.0', '0.9.9']));
    expect(run.status).toBe(0);
    expect(run.removed).toEqual([path.join(layout.releases, '0.1.0')]);
    expect(fs.readdirSync(layout.releases).sort()).toEqual(['0.2.0', '0.3.0']);
    const current = runKeyed(pruneReleasesScript(layout, ['0.3.0']));
    expect(current.status).not.toBe(0);
    expect(current.stderr).toContain('release 0.3.0 is current; it is kept');
    expect(runKeyed(pruneReleasesScript(layout, ['../etc'])).stderr).toContain('refusing to remove release ../etc');
    expect(fs.readdirSync(layout.releases).sort()).toEqual(['0.2.0', '0.3.0']);
  });
});

describe('the release a rollback goes to', () => {
  const rows = [row('0.1.0', 'previous', 1), row('0.2.0', 'previous', 2), row('0.3.0', 'failed', 4), row('0.4.0', 'current', 3)];

  it('is the previous one (the most recently active before the current one) unless one is named', () => {
    expect(chooseRollbackTarget('db-1', rows)).toEqual({ from: '0.4.0', to: '0.2.0' });
    expect(chooseRollbackTarget('db-1', rows, '0.1.0')).toEqual({ from: '0.4.0', to: '0.1.0' });
    expect(chooseRollbackTarget('db-1', rows, '0.3.0')).toEqual({ from: '0.4.0', to: '0.3.0' });
  });

  it('must be kept on the host, and there must be one', () => {
    expect(() => chooseRollbackTarget('db-1', rows, '0.9.0')).toThrow(
      expect.objectContaining({
        code: 'NOT_FOUND',
        message: 'db-1 keeps no release 0.9.0; its releases: 0.1.0 (previous), 0.2.0 (previous), 0.3.0 (failed), 0.4.0 (current).',
        remedy: expect.stringContaining('--to VERSION'),
      }),
    );
    expect(() => chooseRollbackTarget('db-1', [row('0.4.0', 'current', 3)])).toThrow(
      /db-1 keeps no previous release to return to; its releases: 0\.4\.0 \(current\)/,
    );
  });
});

describe('what uninstall removes', () => {
  it("is the recorded paths and releases of the install's own layout, each once, a parent before what is in it, and nothing that is not a clean absolute path", () => {
    const layout = installLayout(loadInstallConfig().config, 'system', '/root');
    const recorded = [
      '/opt/sutazai',
      '/etc/sutazai/runtime.yaml',
      '/var/lib/sutazai-runtime',
      '/',
      'relative/dir',
      '/opt/../etc',
      '/opt/sutazai/releases/0.1.0',
      '/opt/sutazai/\n/etc',
      '/srv',
    ];
    expect(pathsToRemove(recorded, ['/opt/sutazai/releases/0.1.0', '/srv/releases/0.2.0'], layout)).toEqual([
      '/opt/sutazai',
      '/etc/sutazai/runtime.yaml',
      '/var/lib/sutazai-runtime',
      '/opt/sutazai/releases/0.1.0',
    ]);
  });

  it("leaves out what an older version recorded from a forged `created` line: a path outside the install's layout", () => {
    const layout = installLayout(
      loadInstallConfig({
        install: [
          {
            name: 'i.yaml',
            text: 'install: { root_dir: /tmp/v/opt, config_dir: /tmp/v/cfg, state_dir: /tmp/v/state, log_dir: /tmp/v/log }\n',
          },
        ],
      }).config,
      'system',
      '/root',
    );
    expect(pathsToRemove(['/tmp/v/cfg', '/tmp/v/data', '/tmp/v/opt', '/tmp/v/state/x'], [], layout)).toEqual(['/tmp/v/cfg', '/tmp/v/opt']);
  });

  it('finds a host where the first apply placed it, per-user ~/ already expanded', () => {
    const config = loadInstallConfig().config;
    expect(recordedLayout(config, 'user', '/home/ops/.local/share/sutazai')).toMatchObject({
      root: '/home/ops/.local/share/sutazai',
      stateDir: '/home/ops/.local/share/sutazai/state',
      configLink: '/home/ops/.local/share/sutazai/etc/runtime.yaml',
    });
    expect(recordedLayout(config, 'system', '/srv/sutazai')).toMatchObject({
      root: '/srv/sutazai',
      configDir: '/etc/sutazai',
      logDir: '/var/log/sutazai',
    });
  });
});

describe('the last lines of a failing process', () => {
  it('are shown under the instance and its file, indented, long lines cut', () => {
    const long = 'x'.repeat(400);
    expect(
      formatLogSections(
        `@@sutazai-log\tcore\t/var/log/sutazai/core.log\n2026-01-01T00:00:00Z err boom\n${long}\n@@sutazai-log\tsutazai-runtime\t/var/log/sutazai/sutazai-runtime.out\nstarted\n`,
      ),
    ).toBe(
      [
        'last lines of core (/var/log/sutazai/core.log):',
        '  2026-01-01T00:00:00Z err boom',
        `  ${'x'.repeat(297)}...`,
        'last lines of sutazai-runtime (/var/log/sutazai/sutazai-runtime.out):',
        '  started',
      ].join('\n'),
    );
    expect(formatLogSections('')).toBe('');
  });
});
