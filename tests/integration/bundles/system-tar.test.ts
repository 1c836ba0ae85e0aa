import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarFormatError } from '../../../electron/backend/bundles/tar-format-error';
import { readTar } from '../../../electron/backend/bundles/tar-reader';
import { fileSink, TarWriter } from '../../../electron/backend/bundles/tar-writer';
import { resealHeader } from '../../support/bundle-kit';
import { makeTempDir } from '../../support/temp-dir';

// Hosts unpack bundles with their own tar (GNU or BusyBox), so what we write must be plain
// ustar to both, and our reader must read only that form: what it verified is then what
// every tar unpacks.
const temp = makeTempDir('sutazai-tar-test-');
afterAll(() => temp.remove());

const topDir = 'd'.repeat(60);
const longDir = `${topDir}/${'e'.repeat(60)}`; // 121 bytes: its files' paths pass 100 and need the prefix field
const files: Array<{ name: string; mode: number; content: Buffer }> = [
  { name: 'bundle.json', mode: 0o644, content: Buffer.from('{"name":"sutazai"}\n') },
  { name: 'node/linux-x64/node', mode: 0o755, content: Buffer.alloc(300_000, 0xab) },
  { name: 'config/empty.yaml', mode: 0o644, content: Buffer.alloc(0) },
  { name: 'config/one-block', mode: 0o600, content: Buffer.alloc(512, 0x31) },
  { name: `${longDir}/${'f'.repeat(90)}.txt`, mode: 0o644, content: Buffer.from('a path of more than 100 bytes\n') },
];
const directories = ['config/', `${topDir}/`, `${longDir}/`, 'node/', 'node/linux-x64/'];

async function writeOurs(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'w');
  try {
    const writer = new TarWriter(fileSink(handle));
    for (const dir of directories) await writer.addDirectory(dir, { mode: 0o755, mtime: 1_700_000_000 });
    for (const f of files) await writer.addFile(f.name, { mode: f.mode, mtime: 1_700_000_000, size: f.content.length }, f.content);
    await writer.finish();
  } finally {
    await handle.close();
  }
}

function run(command: string, args: string[], cwd = temp.path) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function expectExtracted(dir: string): void {
  for (const f of files) {
    const extracted = path.join(dir, f.name);
    expect(fs.readFileSync(extracted).equals(f.content), f.name).toBe(true);
    expect(fs.statSync(extracted).mode & 0o777, f.name).toBe(f.mode);
  }
  for (const d of directories) expect(fs.statSync(path.join(dir, d)).isDirectory()).toBe(true);
}

async function readOurs(file: string) {
  const entries: Array<{ name: string; type: string; mode: number; content: Buffer }> = [];
  for await (const entry of readTar(fs.createReadStream(file))) {
    const parts: Buffer[] = [];
    for await (const part of entry.body) parts.push(part);
    entries.push({ name: entry.name, type: entry.type, mode: entry.mode, content: Buffer.concat(parts) });
  }
  return entries;
}

describe('what our writer makes', () => {
  const archive = path.join(temp.path, 'ours.tar');

  it('GNU tar lists with the right types, modes and sizes, and unpacks byte for byte', async () => {
    await writeOurs(archive);
    const listing = run('tar', ['-tvf', archive]);
    expect(listing.stderr).toBe('');
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/^-rwxr-xr-x root\/root +300000 .* node\/linux-x64\/node$/m);
    expect(listing.stdout).toMatch(/^-rw------- root\/root +512 .* config\/one-block$/m);
    expect(listing.stdout).toMatch(/^drwxr-xr-x root\/root +0 .* node\/$/m);
    expect(listing.stdout).toContain(`${longDir}/${'f'.repeat(90)}.txt`);

    const out = path.join(temp.path, 'gnu-out');
    fs.mkdirSync(out);
    const extract = run('tar', ['-xpf', archive, '-C', out]);
    expect(extract.stderr).toBe('');
    expect(extract.code).toBe(0);
    expectExtracted(out);
  });

  it('BusyBox tar lists and unpacks it too', async () => {
    await writeOurs(archive);
    const listing = run('busybox', ['tar', '-tvf', archive]);
    expect(listing.code).toBe(0);
    expect(listing.stdout).toMatch(/^-rwxr-xr-x root\/root +300000 .* node\/linux-x64\/node$/m);
    const out = path.join(temp.path, 'busybox-out');
    fs.mkdirSync(out);
    const extract = run('busybox', ['tar', '-xf', archive, '-C', out]);
    expect(extract.stderr).toBe('');
    expect(extract.code).toBe(0);
    expectExtracted(out);
  });
});

describe('what GNU tar makes', () => {
  const source = path.join(temp.path, 'source');

  function materialize(): void {
    fs.rmSync(source, { recursive: true, force: true });
    for (const f of files) {
      fs.mkdirSync(path.join(source, path.dirname(f.name)), { recursive: true });
      fs.writeFileSync(path.join(source, f.name), f.content);
      fs.chmodSync(path.join(source, f.name), f.mode);
    }
    for (const d of directories) fs.chmodSync(path.join(source, d), 0o755);
  }

  it('our reader reads GNU tar --format=ustar owned by root, the very header form ours writes: names past 100 bytes, directories, modes, bytes', async () => {
    materialize();
    const archive = path.join(temp.path, 'gnu-ustar.tar');
    const made = run('tar', [
      '--format=ustar',
      '--owner=root:0',
      '--group=root:0',
      '-cf',
      archive,
      '-C',
      source,
      'bundle.json',
      'config',
      topDir,
      'node',
    ]);
    expect(made.stderr).toBe('');
    const entries = await readOurs(archive);
    expect(
      entries
        .filter((e) => e.type === 'directory')
        .map((e) => e.name)
        .sort(),
    ).toEqual([...directories].sort());
    for (const f of files) {
      const entry = entries.find((e) => e.name === f.name);
      expect(entry, f.name).toBeDefined();
      expect(entry!.mode).toBe(f.mode);
      expect(entry!.content.equals(f.content)).toBe(true);
    }
  });

  it('our reader refuses any other header form, such as another owner', async () => {
    materialize();
    const archive = path.join(temp.path, 'gnu-ustar-daemon.tar');
    expect(run('tar', ['--format=ustar', '--owner=daemon:1', '--group=daemon:1', '-cf', archive, '-C', source, 'bundle.json']).code).toBe(
      0,
    );
    await expect(readOurs(archive)).rejects.toThrow(
      /header of "bundle.json" differs in its uid field from the plain ustar header the SutazAI builder writes/,
    );
  });

  it("our reader refuses GNU tar's own header, whose prefix field BusyBox joins to the name and GNU tar does not", async () => {
    materialize();
    const archive = path.join(temp.path, 'gnu-prefix.tar');
    expect(run('tar', ['--format=ustar', '--owner=root:0', '--group=root:0', '-cf', archive, '-C', source, 'bundle.json']).code).toBe(0);
    // The GNU magic and bytes where POSIX keeps the prefix (GNU: access and change times).
    const bytes = fs.readFileSync(archive);
    bytes.write('ustar  \0', 257, 'latin1');
    bytes.write('etc', 345, 'latin1');
    fs.writeFileSync(archive, resealHeader(bytes));
    // The disagreement itself: one archive, two names.
    expect(run('tar', ['-tf', archive]).stdout).toBe('bundle.json\n');
    expect(run('busybox', ['tar', '-tf', archive]).stdout).toBe('etc/bundle.json\n');
    await expect(readOurs(archive)).rejects.toThrow(/a header in GNU tar's own format, not POSIX ustar/);
  });

  it('our reader refuses GNU tar extensions and links with the reason', async () => {
    materialize();
    // GNU's own format writes a path over 100 bytes as an extra "long name" entry.
    const gnu = path.join(temp.path, 'gnu-format.tar');
    run('tar', ['--format=gnu', '-cf', gnu, '-C', source, topDir]);
    await expect(readOurs(gnu)).rejects.toThrow(/GNU tar's own format/);

    fs.symlinkSync('/etc/passwd', path.join(source, 'config/passwd'));
    const linked = path.join(temp.path, 'with-link.tar');
    run('tar', ['--format=ustar', '-cf', linked, '-C', source, 'config']);
    const error = await readOurs(linked).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarFormatError);
    expect((error as Error).message).toMatch(/"config\/passwd" is a symbolic link/);
  });
});
