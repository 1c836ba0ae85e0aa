import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { desktopCall } from '../../support/desktop-call';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * An install definition from a page (installs.plan, installs.start) names its bundle as
 * name@version and writes its layers inline: over web mode a bundle given as a path and a
 * `{file}` layer are refused before any file is read, probed or imported (the rule of
 * PAGE_PATH_METHODS, for fields of methods a page may call). The desktop app's pipe keeps them.
 */

let running: RunningBackend;
let client: ApiClient;
let kit: BundleKit;
let first: BuiltBundle;
let second: BuiltBundle;
let scratch = '';

beforeAll(async () => {
  kit = await makeBundleKit();
  first = await kit.build('page-install-a', { controlCenterRange: '*' });
  second = await kit.build('page-install-b', { controlCenterRange: '*' });
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'install-page-paths-'));
  running = await startTestBackend({ probeAtStart: false, sampleLocalHost: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
}, 60_000);

afterAll(async () => {
  client?.close();
  await running?.stop();
  kit?.remove();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

const refusal = (call: Promise<unknown>) =>
  call.then(
    () => ({ code: 'accepted', message: '', remedy: '' }),
    (error: { code: string; message: string; remedy?: string }) => ({
      code: error.code,
      message: error.message,
      remedy: error.remedy ?? '',
    }),
  );

const definition = (extra: Record<string, unknown>) => ({ name: 'page-lab', hosts: [{ name: 'local', role: 'both' }], ...extra });

describe('an install definition from a web page', () => {
  it('refuses a bundle named by path, before it is read: no corrupt/unreadable answer to probe files with', async () => {
    for (const bundle of ['/etc/passwd', '/nonexistent/x.sutazai-bundle', 'relative/release.sutazai-bundle']) {
      for (const method of ['installs.plan', 'installs.start'] as const) {
        const answer = await refusal(client.call(method, { install: definition({ bundle }) } as never));
        expect(answer.code, `${method} ${bundle}`).toBe('METHOD_NOT_ON_THIS_PIPE');
        expect(answer.message).toContain('install.bundle');
        expect(answer.remedy).toContain('Bundles page');
      }
    }
  });

  it("refuses {file} layers, the install's and a host's, before the file is read as YAML", async () => {
    const secret = path.join(scratch, 'secret.yaml');
    fs.writeFileSync(secret, 'db_password: hunter2-SECRET\nnot: [valid\n');
    const answer = await refusal(
      client.call('installs.plan', {
        install: {
          ...definition({ bundle: 'page-install-a@0.0.0', config: [{ values: { a: 1 } }, { file: secret }] }),
          hosts: [{ name: 'local', role: 'both', config: { file: secret } }],
        },
      } as never),
    );
    expect(answer.code).toBe('METHOD_NOT_ON_THIS_PIPE');
    expect(answer.message).toContain('install.config[1].file, install.hosts[0].config.file');
    // Nothing of the file comes back: not its keys, not its lines.
    expect(answer.message).not.toContain('db_password');
    expect(answer.message).not.toContain(secret);
  });

  it('never imports a bundle on the way, even one signed by a trusted key; a bundle not imported is named with its remedy', async () => {
    // The first bundle imported over the desktop app's pipe (which may name its path), trusting the kit's key.
    expect(
      await desktopCall(running.backend.dispatcher, 'bundles.import', { path: first.file, trustKey: kit.key.fingerprint }),
    ).toMatchObject({ ok: true });
    expect((await client.call('bundles.list', {})).map((b) => b.version)).toHaveLength(1);

    const byPath = await refusal(client.call('installs.plan', { install: definition({ bundle: second.file }) } as never));
    expect(byPath.code).toBe('METHOD_NOT_ON_THIS_PIPE');
    expect(await client.call('bundles.list', {})).toHaveLength(1);

    const notImported = await refusal(
      client.call('installs.plan', { install: definition({ bundle: `${second.manifest.name}@9.9.9` }) } as never),
    );
    expect(notImported.code).toBe('NOT_FOUND');
    expect(notImported.remedy).toContain('Bundles page');
    expect(notImported.remedy).not.toContain('path');
    // The refusals are recorded, as the path methods' are.
    const recorded = await client.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 50 });
    expect(recorded.entries.map((entry) => entry.method)).toEqual(expect.arrayContaining(['installs.plan', 'installs.start']));
  });

  it("is taken over the desktop app's own pipe: the bundle's path reaches the engine", async () => {
    const answer = await desktopCall(running.backend.dispatcher, 'installs.plan', {
      install: definition({ bundle: path.join(scratch, 'missing.sutazai-bundle') }),
    });
    expect(answer).toMatchObject({ ok: false, error: { code: 'BUNDLE_UNREADABLE' } });
  });
});
