import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeSupportBundle } from '../../../electron/backend/bundles/support-bundles/support-analyzers';
import { readSupportArchive, writeSupportArchive } from '../../../electron/backend/bundles/support-bundles/support-archive';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-support-archive-');
afterAll(() => tmp.remove());

const GiB = 1024 ** 3;
const crash = (atMs: number, lines: string[]) => ({
  kind: 'process.crash-loop',
  instance: 'agent-2',
  process: 'agent',
  atMs,
  lastLines: lines,
  message: 'agent-2 entered crash-loop',
});
const files = [
  {
    path: 'hosts/b4/events.json',
    text: JSON.stringify([
      crash(3, ['boot', 'error: cannot open /data/model.bin: No such file or directory']),
      { kind: 'process.exit', instance: 'agent-2', process: 'agent', atMs: 2, lastLines: [], message: '' },
      crash(1, ['older']),
    ]),
  },
  {
    path: 'hosts/b4/facts.json',
    text: JSON.stringify({
      filesystems: [
        { device: '/dev/sda1', mount: '/', type: 'ext4', sizeBytes: 100 * GiB, usedBytes: 93 * GiB, availableBytes: 7 * GiB },
        { device: '/dev/sdb1', mount: '/data', type: 'ext4', sizeBytes: 100 * GiB, usedBytes: 20 * GiB, availableBytes: 80 * GiB },
      ],
    }),
  },
  {
    path: 'hosts/b4/runtime/processes.json',
    text: JSON.stringify([
      {
        name: 'core',
        instances: [{ instance: 'core', state: 'exited', restarts: 4, lastError: { message: 'exit code 3' } }],
      },
    ]),
  },
  { path: 'hosts/b4/runtime/logs/core.log', text: '2026-01-01T00:00:00.000Z err listen EADDRINUSE :8080\n' },
  { path: 'hosts/b4/alerts.json', text: '[]' },
];
const manifest = {
  targetName: 'prod',
  collectedAtMs: Date.UTC(2026, 11, 6),
  versions: { 'control-center': '1.2.3' },
  redaction: { addresses: false, hostNames: false, rules: [], countsByRule: {} },
  gaps: ['b5: its runtime could not be reached (connection refused): no state, process list or logs'],
};

async function written(name: string): Promise<string> {
  const file = path.join(tmp.path, name);
  await writeSupportArchive(file, manifest, files);
  return file;
}

describe('a support bundle on disk', () => {
  it('is a plain tar (manifest first) that reads back file for file', async () => {
    const file = await written('ok.tar');
    expect(execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      'manifest.json',
      ...files.map((f) => f.path),
    ]);
    expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
    const read = await readSupportArchive(file);
    expect(read.manifest).toMatchObject({ kind: 'sutazai-support-bundle', format: 1, targetName: 'prod' });
    expect([...read.files]).toEqual(files.map((f) => [f.path, f.text]));
  });

  it('is never written over an existing file', async () => {
    const file = await written('twice.tar');
    const before = fs.readFileSync(file);
    await expect(writeSupportArchive(file, manifest, [])).rejects.toMatchObject({ code: 'SUPPORT_OUTPUT_EXISTS' });
    expect(fs.readFileSync(file)).toEqual(before);
    expect(fs.readdirSync(tmp.path).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it('refuses a flipped byte, a cut file, a foreign tar and a newer format, each saying why', async () => {
    const good = fs.readFileSync(await written('source.tar'));
    const flipped = Buffer.from(good);
    const at = good.indexOf('EADDRINUSE');
    flipped[at] = flipped[at]! ^ 0x20;
    const cases: Array<[string, Buffer, string, RegExp]> = [
      ['flipped.tar', flipped, 'SUPPORT_BUNDLE_INVALID', /core\.log does not match its digest/],
      ['cut.tar', good.subarray(0, 2048), 'SUPPORT_BUNDLE_INVALID', /truncated/],
    ];
    for (const [name, bytes, code, message] of cases) {
      const file = path.join(tmp.path, name);
      fs.writeFileSync(file, bytes);
      const error = await readSupportArchive(file).catch((caught: unknown) => caught);
      expect(error, name).toMatchObject({ code });
      expect((error as Error).message, name).toMatch(message);
    }
    const foreignDir = path.join(tmp.path, 'foreign');
    fs.mkdirSync(foreignDir);
    fs.writeFileSync(path.join(foreignDir, 'bundle.json'), '{}');
    execFileSync('tar', ['--format=ustar', '-cf', path.join(tmp.path, 'foreign.tar'), '-C', foreignDir, 'bundle.json']);
    await expect(readSupportArchive(path.join(tmp.path, 'foreign.tar'))).rejects.toMatchObject({
      code: 'SUPPORT_BUNDLE_INVALID',
      message: expect.stringContaining('starts with bundle.json, not manifest.json'),
    });
    const newerDir = path.join(tmp.path, 'newer');
    fs.mkdirSync(newerDir);
    fs.writeFileSync(path.join(newerDir, 'manifest.json'), JSON.stringify({ kind: 'sutazai-support-bundle', format: 2 }));
    execFileSync('tar', ['--format=ustar', '-cf', path.join(tmp.path, 'newer.tar'), '-C', newerDir, 'manifest.json']);
    await expect(readSupportArchive(path.join(tmp.path, 'newer.tar'))).rejects.toMatchObject({ code: 'SUPPORT_BUNDLE_NEWER' });
  });
});

describe('the offline analyzers', () => {
  it('find the crash-loop with its count and last lines, the full filesystem, the exited process and the gap, most severe first', async () => {
    const findings = analyzeSupportBundle(await readSupportArchive(await written('analyze.tar')));
    expect(findings.map((f) => [f.analyzer, f.severity])).toEqual([
      ['crash-loop', 'critical'],
      ['full-filesystem', 'warning'],
      ['not-running', 'warning'],
      ['gap', 'info'],
    ]);
    const [loop, full, exited] = findings;
    expect(loop!.summary).toBe(
      'agent-2 on b4 entered crash-loop 2 times; its last lines say: error: cannot open /data/model.bin: No such file or directory',
    );
    expect(loop!.details).toEqual(['boot', 'error: cannot open /data/model.bin: No such file or directory']);
    expect(full!.summary).toBe("b4's filesystem / was 93% full (7.0 GiB free of 100.0 GiB)");
    expect(exited!.summary).toBe('core on b4 was exited after 4 restarts: exit code 3');
    expect(exited!.details).toEqual(['2026-01-01T00:00:00.000Z err listen EADDRINUSE :8080']);
    for (const finding of findings) expect(finding.remedy.length).toBeGreaterThan(20);
  });
});
