import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { fileSha256 } from '../../support/config-sites';
import { makeTempDir } from '../../support/temp-dir';
import { uploadPermitHeader } from '../../support/web-uploads';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * A configuration file imported from a browser (web mode: configBundles.reviewUpload and
 * importUpload over the page's socket) sets no host login on the backend's machine itself: a
 * host that logs in with a key file there (keyPath) or with its SSH agent is blocked in the
 * review, with the reason and what to do (paste the key after the import), and never applied;
 * the file's other items are imported. The command line imports the same file whole.
 */

let running: RunningBackend;
let page: ApiClient;
let cli: ApiClient;
const scratch = makeTempDir('sutazai-config-web-logins-');
const keyFile = path.join(scratch.path, 'id_ed25519');
const exported = path.join(scratch.path, 'site.yaml');

beforeAll(async () => {
  running = await startTestBackend({
    probeAtStart: false,
    sampleLocalHost: false,
    vaultKey: { kind: 'passphrase', passphrase: 'config web logins vault' },
  });
  page = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  cli = running.backend.openClient('cli');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'web-logins-test', '-f', keyFile]);
  // The file another site (or this one, before) exported: three hosts, logging in three ways.
  const base = { user: 'ops' };
  const added = [
    await cli.call('hosts.add', { ...base, name: 'by-file', address: '198.18.60.1', auth: { method: 'key', keyPath: keyFile } }),
    await cli.call('hosts.add', { ...base, name: 'by-agent', address: '198.18.60.2', auth: { method: 'agent' } }),
    await cli.call('hosts.add', { ...base, name: 'by-password', address: '198.18.60.3', auth: { method: 'password', password: 'pw 1' } }),
  ];
  await cli.call('configBundles.export', { path: exported, format: 'yaml' });
  for (const host of added) await cli.call('hosts.remove', { hostId: host.id });
}, 60_000);

afterAll(async () => {
  page?.close();
  cli?.close();
  await running?.stop();
  scratch.remove();
});

async function uploadExport(): Promise<string> {
  const origin = `http://127.0.0.1:${running.server.port}`;
  const sent = await fetch(`${origin}/upload?kind=config`, {
    method: 'POST',
    body: new Uint8Array(fs.readFileSync(exported)),
    headers: {
      'X-SutazAI-Token': running.token,
      Origin: origin,
      ...(await uploadPermitHeader(page, 'config')),
      'Content-Type': 'application/octet-stream',
      'X-File-Name': 'site.yaml',
    },
  });
  expect(sent.status).toBe(200);
  return ((await sent.json()) as { uploadId: string }).uploadId;
}

const hostNames = async () =>
  (await cli.call('hosts.list', {}))
    .filter((host) => host.kind !== 'local')
    .map((host) => host.name)
    .sort();

describe("a configuration file's host logins from a browser", () => {
  it("blocks a host with the backend's key file or SSH agent in the review, imports the rest, and the CLI still imports all", async () => {
    const uploadId = await uploadExport();
    const review = await page.call('configBundles.reviewUpload', { uploadId });
    const hostItem = (name: string) => review.items.find((item) => item.id === `host:${name}`);
    expect(hostItem('by-file')).toMatchObject({
      status: 'blocked',
      reason: expect.stringContaining(`key file ${JSON.stringify(keyFile)}`),
    });
    expect(hostItem('by-file')?.reason).toContain('Paste key');
    expect(hostItem('by-agent')).toMatchObject({ status: 'blocked', reason: expect.stringContaining('SSH agent') });
    expect(hostItem('by-agent')?.reason).toContain('Paste key');
    expect(hostItem('by-password')).toMatchObject({ status: 'new' });

    // Named on its own, a blocked host refuses the import (nothing imported); "all" leaves it with its reason.
    const alone = await page.call('configBundles.importUpload', { uploadId, items: ['host:by-file'], sha256: review.sha256 }).then(
      () => 'accepted',
      (error: { code: string }) => error.code,
    );
    expect(alone).toBe('CONFIG_IMPORT_BLOCKED');
    const imported = await page.call('configBundles.importUpload', { uploadId, items: 'all', sha256: review.sha256 });
    expect(imported.applied).toEqual(['host:by-password']);
    expect(imported.left).toEqual(
      expect.arrayContaining([
        { id: 'host:by-file', reason: expect.stringMatching(/^blocked: its login is the key file/) },
        { id: 'host:by-agent', reason: expect.stringMatching(/^blocked: its login is the SSH agent/) },
      ]),
    );
    expect(await hostNames()).toEqual(['by-password']);

    // The command line sits at the backend's machine: the same file imports whole, key file and agent included.
    const whole = await cli.call('configBundles.import', { path: exported, items: 'all', sha256: fileSha256(exported) });
    expect([...whole.applied].sort()).toEqual(['host:by-agent', 'host:by-file']);
    const byFile = (await cli.call('hosts.list', {})).find((host) => host.name === 'by-file');
    expect(byFile).toMatchObject({ authMethod: 'key', keyPath: keyFile });
  });
});
