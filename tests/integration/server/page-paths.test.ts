import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient, type ServerMessage } from '../../../electron/contract';
import { createPipeSession, desktopPipeGrants } from '../../../electron/backend/server/dispatcher';
import type { BuiltBundle } from '../../../electron/backend/bundles/build-bundle';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeBundleKit, type BundleKit } from '../../support/bundle-kit';
import { desktopCall } from '../../support/desktop-call';
import { makeWaitFor } from '../../support/wait-for';
import { uploadFileOverWeb, uploadPermitHeader } from '../../support/web-uploads';
import { openSocket, wsTransport } from '../../support/ws-peer';

/**
 * The rule for paths from a page (PAGE_PATH_METHODS): a browser (web mode) may not name a
 * file on the backend's machine, the desktop app's window may; web mode moves a support
 * bundle by a download served once to the session that asked, and by an upload, and a
 * release bundle by an upload verified and imported by its id.
 */

let running: RunningBackend;
let client: ApiClient;
let base = '';
let kit: BundleKit;
let release: BuiltBundle;
const waitFor = makeWaitFor({ timeoutMs: 10_000, pollMs: 20 });

beforeAll(async () => {
  kit = await makeBundleKit();
  release = await kit.build('page-paths', { controlCenterRange: '*' });
  running = await startTestBackend({ probeAtStart: false, sampleLocalHost: false });
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  base = `http://127.0.0.1:${running.server.port}`;
}, 60_000);

afterAll(async () => {
  client?.close();
  await running?.stop();
  kit?.remove();
});

const refusedWith = (call: Promise<unknown>) =>
  call.then(
    () => 'accepted',
    (error: { code?: string }) => error.code,
  );

async function localHostId(): Promise<number> {
  return (await client.call('hosts.find', { host: 'local' })).host.id;
}

describe('a path on the backend machine from a page', () => {
  it('is refused over web mode before it is read: support.save and support.analyze', async () => {
    const preview = await client.call('support.collect', { target: { hostId: await localHostId() } });
    expect(await refusedWith(client.call('support.analyze', { path: '/etc/passwd' }))).toBe('METHOD_NOT_ON_THIS_PIPE');
    expect(await refusedWith(client.call('support.save', { previewId: preview.previewId, redaction: {}, path: '/tmp/x.tar' }))).toBe(
      'METHOD_NOT_ON_THIS_PIPE',
    );
    // The attempt is recorded, as a file method's refusal is.
    const recorded = await client.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 10 });
    expect(recorded.entries.map((entry) => entry.method).sort()).toEqual(['support.analyze', 'support.save']);
  });

  it("is taken over the desktop app's own pipe (its grants): the handler reads the path", async () => {
    const answer = await desktopCall(running.backend.dispatcher, 'support.analyze', { path: '/nonexistent/bundle.tar' });
    expect(answer).toMatchObject({ id: 1, ok: false, error: { code: 'SUPPORT_BUNDLE_INVALID' } });
  });
});

describe('web mode moves a support bundle by download and upload', () => {
  let bundle: Buffer;

  it('serves a download once, only with the session that asked, and the file is gone after', async () => {
    const preview = await client.call('support.collect', { target: { hostId: await localHostId() } });
    const offered = await client.call('support.download', { previewId: preview.previewId, redaction: {} });
    expect(offered.url).toMatch(/^\/download\/[A-Za-z0-9_-]{43}$/);
    expect(offered.fileName).toMatch(/^sutazai-support-[0-9a-f]{12}\.tar$/);
    // No token: not this session.
    expect((await fetch(`${base}${offered.url}`)).status).toBe(401);
    expect((await fetch(`${base}${offered.url}`, { headers: { 'X-SutazAI-Token': `${running.token}x` } })).status).toBe(401);
    // A HEAD does not use it up (it is refused: GET only).
    expect((await fetch(`${base}${offered.url}`, { method: 'HEAD', headers: { 'X-SutazAI-Token': running.token } })).status).toBe(405);
    const first = await fetch(`${base}${offered.url}`, { headers: { 'X-SutazAI-Token': running.token } });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-disposition')).toBe(`attachment; filename="${offered.fileName}"`);
    expect(first.headers.get('cache-control')).toBe('no-store');
    bundle = Buffer.from(await first.arrayBuffer());
    expect(bundle.length).toBe(offered.bytes);
    expect(bundle.subarray(0, 13).toString()).toBe('manifest.json');
    // Once.
    expect((await fetch(`${base}${offered.url}`, { headers: { 'X-SutazAI-Token': running.token } })).status).toBe(404);
    // And the file is not kept on the backend's machine.
    const left = () =>
      fs.readdirSync(path.join(running.dataDir, 'downloads'), { recursive: true }).filter((name) => String(name).endsWith('.tar'));
    await waitFor('the served file removed', () => left().length === 0);
  });

  it('analyzes an upload of this session once; an upload from another origin or without the session is refused', async () => {
    const upload = (headers: Record<string, string>) =>
      fetch(`${base}/upload`, {
        method: 'POST',
        body: new Uint8Array(bundle),
        headers: { 'Content-Type': 'application/octet-stream', ...headers },
      });
    expect((await upload({ 'X-SutazAI-Token': running.token, Origin: 'http://evil.example' })).status).toBe(403);
    expect((await upload({ Origin: base })).status).toBe(401);
    const sent = await upload({
      'X-SutazAI-Token': running.token,
      Origin: base,
      'X-File-Name': 'site bundle.tar',
      ...(await uploadPermitHeader(client, 'support')),
    });
    expect(sent.status).toBe(200);
    const { uploadId } = (await sent.json()) as { uploadId: string };
    const analysis = await client.call('support.analyzeUpload', { uploadId });
    expect(analysis).toMatchObject({ path: 'site_bundle.tar', targetName: 'local' });
    expect(await refusedWith(client.call('support.analyzeUpload', { uploadId }))).toBe('SUPPORT_UPLOAD_GONE');
    // A file that is no bundle is refused naming it as uploaded, never where the backend keeps it.
    const junk = await fetch(`${base}/upload`, {
      method: 'POST',
      body: new TextEncoder().encode('not a bundle'),
      headers: {
        'Content-Type': 'application/octet-stream',
        'X-SutazAI-Token': running.token,
        Origin: base,
        'X-File-Name': 'junk.tar',
        ...(await uploadPermitHeader(client, 'support')),
      },
    });
    const junkId = ((await junk.json()) as { uploadId: string }).uploadId;
    const refused = await client.call('support.analyzeUpload', { uploadId: junkId }).then(
      () => null,
      (error: { code: string; message: string; remedy: string }) => error,
    );
    expect(refused?.code).toBe('SUPPORT_BUNDLE_INVALID');
    expect(refused?.message).toContain('junk.tar');
    expect(`${refused?.message} ${refused?.remedy}`).not.toContain(running.dataDir);
  });

  it('receives one upload per session at a time: a second while the first is being sent is refused, written nowhere', async () => {
    const headers = { 'X-SutazAI-Token': running.token, Origin: base };
    const declared = 64 * 1024 * 1024;
    const held = () =>
      fs.readdirSync(path.join(running.dataDir, 'downloads'), { recursive: true }).filter((name) => String(name).endsWith('.tar'));
    const before = held().length;
    // The first upload says it is 64 MiB and sends a little of it, holding its place.
    const first = http.request(`${base}/upload`, {
      method: 'POST',
      headers: { ...headers, ...(await uploadPermitHeader(client, 'support')), 'Content-Length': String(declared) },
    });
    const firstAnswer = new Promise<number>((resolve, reject) => {
      first.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      first.on('error', reject);
    });
    try {
      first.write(Buffer.alloc(1024));
      // Its file is being written: the backend is receiving it.
      await waitFor('the first upload being written', () => held().length === before + 1);
      const second = await fetch(`${base}/upload`, {
        method: 'POST',
        body: new Uint8Array(bundle),
        headers: { ...headers, ...(await uploadPermitHeader(client, 'support')) },
      });
      expect(second.status).toBe(429);
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('UPLOAD_BUSY');
      expect(held().length).toBe(before + 1);
      // The first goes on to its end and is offered; then this session may upload again.
      first.end(Buffer.alloc(declared - 1024));
      expect(await firstAnswer).toBe(200);
      const again = { ...headers, ...(await uploadPermitHeader(client, 'support')) };
      expect((await fetch(`${base}/upload`, { method: 'POST', body: new Uint8Array(bundle), headers: again })).status).toBe(200);
    } finally {
      first.destroy();
    }
  });
});

describe('web mode moves a release bundle by upload, never by a path', () => {
  const bundleFiles = () =>
    fs.existsSync(path.join(running.dataDir, 'bundles')) ? fs.readdirSync(path.join(running.dataDir, 'bundles')) : [];
  const target = () => ({ base, headers: { 'X-SutazAI-Token': running.token, Origin: base } });

  it('refuses bundles.verify and bundles.import with a path over web mode, before it is read, and records the attempt', async () => {
    expect(await refusedWith(client.call('bundles.verify', { path: '/etc/shadow' }))).toBe('METHOD_NOT_ON_THIS_PIPE');
    expect(await refusedWith(client.call('bundles.import', { path: release.file, trustKey: kit.key.fingerprint }))).toBe(
      'METHOD_NOT_ON_THIS_PIPE',
    );
    expect(await client.call('bundles.list', {})).toEqual([]);
    const recorded = await client.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 20 });
    expect(recorded.entries.map((entry) => entry.method)).toEqual(expect.arrayContaining(['bundles.verify', 'bundles.import']));
  });

  it('verifies an upload of this session, asks for its signer, imports it by moving it in, and it is gone after', async () => {
    const sent = await uploadFileOverWeb(target(), release.file, 'bundle', 'my release.sutazai-bundle', client);
    expect(sent.status).toBe(200);
    // Hashed as it was received: the bundle's own SHA-256 and size.
    expect(sent.body).toEqual({
      uploadId: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      sha256: release.sha256,
      sizeBytes: release.sizeBytes,
    });
    const { uploadId } = sent.body as { uploadId: string };
    // Not another kind's: a support analysis does not find it.
    expect(await refusedWith(client.call('support.analyzeUpload', { uploadId }))).toBe('SUPPORT_UPLOAD_GONE');
    const verified = await client.call('bundles.verifyUpload', { uploadId });
    expect(verified).toMatchObject({ path: 'my_release.sutazai-bundle', sha256: release.sha256, signer: { trusted: false } });
    // The signer is unknown: refused, named as uploaded, and the upload is kept for the confirmed import.
    const unconfirmed = await client.call('bundles.importUpload', { uploadId }).then(
      () => null,
      (error: { code: string; message: string }) => error,
    );
    expect(unconfirmed?.code).toBe('BUNDLE_KEY_UNKNOWN');
    expect(unconfirmed?.message).toContain('my_release.sutazai-bundle');
    expect(unconfirmed?.message).not.toContain(running.dataDir);
    const imported = await client.call('bundles.importUpload', { uploadId, trustKey: kit.key.fingerprint });
    expect(imported).toMatchObject({ alreadyImported: false, keyTrusted: true, bundle: { sha256: release.sha256 } });
    expect(bundleFiles()).toEqual([path.basename(imported.bundle.path)]);
    // The record of actions names the upload as sent, by its SHA-256, and the release it imported (never the upload's id).
    const recorded = (await client.call('audit.list', { limit: 50 })).entries.filter((entry) => entry.method === 'bundles.importUpload');
    expect(recorded.map((entry) => [entry.outcome, entry.target]).sort()).toEqual([
      ['BUNDLE_KEY_UNKNOWN', `upload my_release.sutazai-bundle (SHA-256 ${release.sha256})`],
      [
        'ok',
        `upload my_release.sutazai-bundle (SHA-256 ${release.sha256}), key ${kit.key.fingerprint}, release ${imported.bundle.name}@${imported.bundle.version}`,
      ],
    ]);
    expect(createHash('sha256').update(fs.readFileSync(imported.bundle.path)).digest('hex')).toBe(release.sha256);
    // Used up: moved into the data directory, nothing left among the uploads.
    expect(await refusedWith(client.call('bundles.verifyUpload', { uploadId }))).toBe('BUNDLE_UPLOAD_GONE');
    const uploads = fs
      .readdirSync(path.join(running.dataDir, 'downloads'), { recursive: true })
      .filter((name) => String(name).endsWith('.sutazai-bundle'));
    expect(uploads).toEqual([]);
  });

  it("holds an upload for its own session only: another session's socket cannot verify it", async () => {
    const sent = await uploadFileOverWeb(target(), release.file, 'bundle', undefined, client);
    const { uploadId } = sent.body as { uploadId: string };
    // The desktop app's own pipe is another pipe identity.
    const answers: ServerMessage[] = [];
    const connection = running.backend.dispatcher.connect(
      (text) => answers.push(JSON.parse(text) as ServerMessage),
      'port:test',
      desktopPipeGrants(createPipeSession()),
      'desktop',
    );
    try {
      connection.receive(JSON.stringify({ type: 'request', id: 1, method: 'bundles.verifyUpload', params: { uploadId } }));
      await waitFor('the answer to bundles.verifyUpload', () => answers.length > 0);
      expect(answers[0]).toMatchObject({ id: 1, ok: false, error: { code: 'BUNDLE_UPLOAD_GONE' } });
    } finally {
      connection.close();
    }
    expect((await client.call('bundles.verifyUpload', { uploadId })).sha256).toBe(release.sha256);
  });
});

describe("a host login with the backend machine's SSH agent from a page", () => {
  const refusal = (call: Promise<unknown>) =>
    call.then(
      () => ({ code: 'accepted', message: '', remedy: '' }),
      (error: { code: string; message: string; remedy: string }) => error,
    );

  it('is refused over web mode for hosts.scanNew, add and update before anything is reached or stored; a host that has it keeps it', async () => {
    const host = { name: 'agent-web', address: '198.18.0.21', user: 'root' };
    for (const call of [
      client.call('hosts.scanNew', { ...host, auth: { method: 'agent' } }),
      client.call('hosts.add', { ...host, auth: { method: 'agent' } }),
    ]) {
      const answer = await refusal(call);
      expect(answer.code).toBe('METHOD_NOT_ON_THIS_PIPE');
      expect(answer.message).toContain('auth.method agent');
      expect(answer.remedy).toContain('Paste key');
    }
    expect((await client.call('hosts.list', {})).map((h) => h.name)).not.toContain('agent-web');
    // The desktop app's window may choose it (its person is the backend's); the host then keeps it over web mode.
    const desktop = await desktopCall(running.backend.dispatcher, 'hosts.add', { ...host, name: 'agent-desk', auth: { method: 'agent' } });
    expect(desktop).toMatchObject({ ok: true, result: { name: 'agent-desk', authMethod: 'agent' } });
    const hostId = (desktop as { result: { id: number } }).result.id;
    const update = await refusal(client.call('hosts.update', { hostId, changes: { auth: { method: 'agent' } } }));
    expect(update).toMatchObject({ code: 'METHOD_NOT_ON_THIS_PIPE', message: expect.stringContaining('changes.auth.method agent') });
    await expect(client.call('hosts.update', { hostId, changes: { labels: ['rack=a1'] } })).resolves.toMatchObject({
      authMethod: 'agent',
      labels: ['rack=a1'],
    });
    const recorded = await client.call('audit.list', { outcome: 'METHOD_NOT_ON_THIS_PIPE', limit: 50 });
    expect(recorded.entries.map((entry) => entry.method)).toEqual(expect.arrayContaining(['hosts.add', 'hosts.scanNew', 'hosts.update']));
  });

  it("imports a page's host list without it: a row naming the agent is refused, a row naming no login comes in waiting for its key", async () => {
    const list = [
      'hosts:',
      '  - name: listed-bare',
      '    address: 198.18.0.22',
      '  - name: listed-agent',
      '    address: 198.18.0.23',
      '    auth: agent',
      '',
    ];
    const imported = await client.call('hosts.import', { text: list.join('\n'), fileName: 'page.yaml' });
    expect(imported.added).toEqual([expect.objectContaining({ name: 'listed-bare', authMethod: 'key', keyPath: null, keyStored: false })]);
    expect(imported.errors).toEqual([
      expect.objectContaining({ row: 2, message: expect.stringContaining('auth: agent'), remedy: expect.stringContaining('Paste key') }),
    ]);
    // The command line's list is its own machine's: the agent is taken there.
    const cli = running.backend.openClient('cli');
    try {
      const fromCli = await cli.call('hosts.import', { text: list.join('\n').replaceAll('listed-', 'cli-'), fileName: 'cli.yaml' });
      expect(fromCli.added.map((h) => [h.name, h.authMethod])).toEqual([
        ['cli-bare', 'agent'],
        ['cli-agent', 'agent'],
      ]);
    } finally {
      cli.close();
    }
  });
});
