import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import type { BundleService } from '../../../electron/backend/bundles/bundle-service';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { createBundlesRepo } from '../../../electron/backend/store/bundles-repo';
import { openStore, type Store } from '../../../electron/backend/store/open-store';
import { bundleServiceOn, makeBundleKit, type BundleKit } from '../../support/bundle-kit';

// What the data directory keeps of imported bundles: one file per name@version, and no
// debris from an import that was killed while it copied. Real SQLite, real processes.
let kit: BundleKit;
let first: BuiltBundle;
let store: Store;
const dataDir = () => path.join(kit.dir, 'data');
const bundlesDir = () => path.join(dataDir(), 'bundles');

function openService(logged: string[] = []): BundleService {
  const line = (o: object, m: string) => void logged.push(`${m} ${JSON.stringify(o)}`);
  return bundleServiceOn(store, dataDir(), { info: line, warn: line });
}

beforeAll(async () => {
  kit = await makeBundleKit();
  first = await kit.build('first');
  store = openStore({ dataDir: dataDir() });
});

afterAll(() => {
  store?.close();
  kit?.remove();
});

describe('one file per name@version', () => {
  it('refuses a different file under an imported name@version, naming both hashes; the same file again is fine', async () => {
    const service = openService();
    const imported = await service.import(first.file, { trustKey: kit.key.fingerprint });
    // Built again from the same sources: the same name@version, other bytes (its creation time).
    const rebuilt = await kit.build('first-rebuilt');
    expect(rebuilt.sha256).not.toBe(first.sha256);
    const release = `sutazai@${kit.checkoutVersion}`;

    const error = await service.import(rebuilt.file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'BUNDLE_VERSION_CONFLICT', remedy: expect.stringMatching(/build it again as a new version/) });
    expect((error as Error).message).toBe(
      `The bundle ${rebuilt.file} is ${release} with SHA-256 ${rebuilt.sha256}, but ${release} was already imported from another file, with SHA-256 ${first.sha256}; one name@version is one file.`,
    );
    // The other file by its SHA-256 only, never where the data directory keeps it (a browser reads this too).
    expect(`${(error as ApiError).message} ${(error as ApiError).remedy}`).not.toContain(dataDir());
    expect(service.list().map((b) => b.sha256)).toEqual([first.sha256]);
    expect(fs.readdirSync(bundlesDir())).toEqual([path.basename(imported.bundle.path)]);
    expect(await service.import(first.file)).toMatchObject({ alreadyImported: true, bundle: { id: imported.bundle.id } });
  });

  it('is held by the store itself, for a writer that skipped the check (another process, racing)', () => {
    const repo = createBundlesRepo(store.db);
    const [row] = repo.list();
    expect(() => repo.insert({ ...row!, fileSha256: 'f'.repeat(64), path: 'bundles/other.sutazai-bundle' })).toThrow(
      /BUNDLE_VERSION_CONFLICT/,
    );
    expect(repo.list()).toHaveLength(1);
  });
});

describe('partial copies of an import', () => {
  const writers: ChildProcess[] = [];
  afterAll(() => {
    for (const writer of writers) if (writer.exitCode === null && writer.signalCode === null) writer.kill('SIGKILL');
  });

  /** A real process caught copying: it named its partial copy as imports do, and holds it. */
  async function startWriter(): Promise<{ child: ChildProcess; file: string }> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('tests', 'support', 'partial-copy-writer.ts'), bundlesDir()], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    writers.push(child);
    let out = '';
    child.stdout!.setEncoding('utf8');
    for await (const chunk of child.stdout!) {
      out += chunk as string;
      if (out.endsWith('\n')) break;
    }
    return { child, file: out.trim() };
  }

  it("removes the copy of a killed import on the next open, with a log line, and keeps a running one's", async () => {
    fs.mkdirSync(bundlesDir(), { recursive: true });
    const killed = await startWriter();
    const running = await startWriter();
    killed.child.kill('SIGKILL');
    await once(killed.child, 'exit');
    // A live PID with another start time is a reused PID: its copy is debris too.
    const reused = path.join(bundlesDir(), `.import-${process.pid}-1-0badc0de.partial`);
    fs.writeFileSync(reused, 'x');
    // A name from before the start time was added, of the killed process.
    const older = path.join(bundlesDir(), `.import-${killed.child.pid}-0123abcd.partial`);
    fs.writeFileSync(older, 'x');
    const unrelated = path.join(bundlesDir(), 'notes.partial');
    fs.writeFileSync(unrelated, 'kept');
    expect(fs.existsSync(killed.file)).toBe(true);

    const logged: string[] = [];
    openService(logged);
    expect(fs.existsSync(killed.file)).toBe(false);
    expect(fs.existsSync(reused)).toBe(false);
    expect(fs.existsSync(older)).toBe(false);
    expect(fs.existsSync(running.file)).toBe(true);
    expect(fs.existsSync(unrelated)).toBe(true);
    const removals = logged.filter((l) => l.startsWith('removed the partial copy of an import that did not finish'));
    expect(removals).toHaveLength(3);
    expect(removals.join('\n')).toContain(`"file":${JSON.stringify(killed.file)},"bytes":1048576`);

    // Once its writer is gone, the next open removes that one too.
    running.child.kill('SIGKILL');
    await once(running.child, 'exit');
    openService();
    expect(fs.existsSync(running.file)).toBe(false);
  });
});
