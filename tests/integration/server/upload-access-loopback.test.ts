// Who may upload in loopback web mode (one launch token, each tab signed in on its own socket):
// the token alone names no operator, so an upload is taken only with a permit its tab's socket
// asked for (uploads.permit), and only when that operator may call the method the upload is for
// (role and access policy, as over the socket): a viewer's tab may send a support bundle to
// analyze, not a release bundle or a configuration file. Real backend, real web server.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiClient, type ApiClient } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';
import { uploadFileOverWeb, uploadPermitHeader } from '../../support/web-uploads';
import { openSocket, wsTransport } from '../../support/ws-peer';

let running: RunningBackend;
/** Two tabs of the same launch token: one signed in as an admin, one as a viewer. */
let admin: ApiClient;
let viewer: ApiClient;
const scratch = makeTempDir('sutazai-upload-loopback-');
const file = path.join(scratch.path, 'some.bin');

const tab = async () => createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
const target = () => ({
  base: `http://127.0.0.1:${running.server.port}`,
  headers: { 'X-SutazAI-Token': running.token, Origin: `http://127.0.0.1:${running.server.port}` },
});
const codeOf = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

beforeAll(async () => {
  running = await startTestBackend({ probeAtStart: false, sampleLocalHost: false });
  fs.writeFileSync(file, Buffer.alloc(4096, 7));
  admin = await tab();
  // The bootstrap's admin adds ada (this tab goes on as her) and a viewer.
  await admin.call('operators.add', { name: 'ada', role: 'admin', password: 'ada is on the day shift' });
  await admin.call('operators.add', { name: 'vic', role: 'viewer', password: 'vic only looks at things' });
  viewer = await tab();
  await viewer.call('session.signIn', { name: 'vic', password: 'vic only looks at things' });
}, 60_000);

afterAll(async () => {
  admin?.close();
  viewer?.close();
  await running?.stop();
  scratch.remove();
});

describe('loopback web mode checks the uploading tab’s operator at the upload', () => {
  it("refuses a viewer's release bundle and configuration file before a byte is kept; takes its support bundle", async () => {
    for (const kind of ['bundle', 'config'] as const) {
      const refused = await uploadFileOverWeb(target(), file, kind, 'x.bin', viewer);
      expect(refused.status).toBe(403);
      expect(codeOf(refused.body)).toBe('ACCESS_DENIED');
    }
    const support = await uploadFileOverWeb(target(), file, 'support', 'site.tar', viewer);
    expect(support.status).toBe(200);
  });

  it("takes an admin's release bundle with its tab's permit", async () => {
    const sent = await uploadFileOverWeb(target(), file, 'bundle', 'release.sutazai-bundle', admin);
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ sizeBytes: 4096 });
  });

  it('refuses an upload without a permit, with a used one, and with one asked for another kind', async () => {
    const none = await uploadFileOverWeb(target(), file, 'support');
    expect(none.status).toBe(401);
    expect(codeOf(none.body)).toBe('UNAUTHORIZED');
    const permit = await uploadPermitHeader(admin, 'bundle');
    const withPermit = { ...target(), headers: { ...target().headers, ...permit } };
    expect((await uploadFileOverWeb(withPermit, file, 'bundle')).status).toBe(200);
    expect((await uploadFileOverWeb(withPermit, file, 'bundle')).status).toBe(401);
    const forSupport = { ...target(), headers: { ...target().headers, ...(await uploadPermitHeader(viewer, 'support')) } };
    expect((await uploadFileOverWeb(forSupport, file, 'bundle')).status).toBe(401);
  });

  it('refuses a permit to a tab that has not signed in while operators exist', async () => {
    const stranger = await tab();
    try {
      await expect(stranger.call('uploads.permit', { kind: 'support' })).rejects.toMatchObject({ code: 'SIGN_IN_REQUIRED' });
    } finally {
      stranger.close();
    }
  });
});
