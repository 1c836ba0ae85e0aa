import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_SUBPROTOCOL, ApiError, createApiClient, MAX_MESSAGE_BYTES, type ApiClient, type LiveSample } from '../../../electron/contract';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { openSocket, WsPeer, wsTransport } from '../../support/ws-peer';

let running: RunningBackend;
let client: ApiClient;

beforeAll(async () => {
  running = await startTestBackend();
  const rendererDir = path.join(running.dataDir, 'renderer');
  fs.mkdirSync(rendererDir, { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), '<!doctype html><title>ok</title>');
  fs.writeFileSync(path.join(running.dataDir, 'secret.txt'), 'outside the renderer');
  client = createApiClient(wsTransport(await openSocket(running.apiUrl, running.token)));
  await running.backend.ready;
});

afterAll(async () => {
  client?.close();
  await running?.stop();
});

/** This machine's id in the inventory, as a window finds it. */
async function localHostId(): Promise<number> {
  return (await client.call('hosts.find', { host: 'local' })).host.id;
}

describe('web mode: the token opens the API socket and nothing else carries it', () => {
  it('serves the page without a token, sets no cookie, and never needs one in the address', async () => {
    const base = `http://127.0.0.1:${running.server.port}`;
    const bare = await fetch(`${base}/`);
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain('<title>ok</title>');
    expect(bare.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(bare.headers.get('referrer-policy')).toBe('no-referrer');
    // A cookie is not bound to a port: the browser would send it to every program on 127.0.0.1.
    expect(bare.headers.get('set-cookie')).toBeNull();
    const withToken = await fetch(`${base}/?token=${running.token}`);
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('set-cookie')).toBeNull();
  });

  it('answers only to loopback names, even for the page', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port: running.server.port, path: '/', headers: { host: 'evil.example' } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        })
        .once('error', reject);
    });
    expect(status).toBe(403);
  });

  it('never serves a file outside the renderer folder', async () => {
    const base = `http://127.0.0.1:${running.server.port}`;
    for (const probe of ['/..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt']) {
      const res = await fetch(`${base}${probe}`);
      expect(res.status, probe).toBe(404);
      expect(await res.text()).not.toContain('outside the renderer');
    }
  });

  it('refuses a socket without the token, with a wrong one, with the token anywhere but the handshake, or from a foreign origin', async () => {
    const { apiUrl, token } = running;
    await expect(WsPeer.open(apiUrl)).rejects.toMatchObject({ status: 401 });
    await expect(WsPeer.open(apiUrl, { token: 'wrong-token-of-sixteen' })).rejects.toMatchObject({ status: 401 });
    // The old ways in: the token in the query string or in a cookie opens nothing.
    await expect(WsPeer.open(`${apiUrl}?token=${token}`)).rejects.toMatchObject({ status: 401 });
    await expect(WsPeer.open(apiUrl, { headers: { cookie: `sutazai_token=${token}` } })).rejects.toMatchObject({ status: 401 });
    // The token alone, without the API's subprotocol for the server to answer with.
    await expect(WsPeer.open(apiUrl, { headers: { 'sec-websocket-protocol': `sutazai.token.${token}` } })).rejects.toMatchObject({
      status: 401,
    });
    await expect(WsPeer.open(apiUrl, { token, headers: { Origin: 'http://evil.example' } })).rejects.toMatchObject({ status: 403 });
    await expect(WsPeer.open(apiUrl, { token, headers: { Origin: `http://127.0.0.1:${running.server.port + 1}` } })).rejects.toMatchObject({
      status: 403,
    });
  });

  it('answers the handshake with the API subprotocol, never echoing the token', async () => {
    const peer = await WsPeer.open(running.apiUrl, { token: running.token });
    try {
      expect(peer.socket.protocol).toBe(API_SUBPROTOCOL);
    } finally {
      peer.close();
    }
  });
});

describe('every message is parsed on arrival and the connection stays up', () => {
  it('answers bad JSON, unknown methods, bad arguments, oversized and binary messages with structured errors', async () => {
    const peer = await WsPeer.open(running.apiUrl, { token: running.token });
    try {
      peer.send('{not json');
      expect(await peer.next()).toMatchObject({ type: 'response', id: null, ok: false, error: { code: 'BAD_JSON' } });

      peer.send(JSON.stringify({ type: 'request', id: 1, method: 'hosts.delete_everything', params: {} }));
      const unknown = (await peer.next()) as { error: { code: string; remedy: string } };
      expect(unknown).toMatchObject({ id: 1, ok: false, error: { code: 'UNKNOWN_METHOD' } });
      expect(unknown.error.remedy).toContain('hosts.list');

      peer.send(JSON.stringify({ type: 'request', id: 2, method: 'hosts.get', params: { hostId: 'one' } }));
      const bad = (await peer.next()) as { error: { code: string; message: string } };
      expect(bad).toMatchObject({ id: 2, ok: false, error: { code: 'BAD_PARAMS' } });
      expect(bad.error.message).toContain('hostId');

      peer.send(JSON.stringify({ type: 'launch', id: 3 }));
      expect(await peer.next()).toMatchObject({ id: 3, ok: false, error: { code: 'BAD_MESSAGE' } });

      peer.send(JSON.stringify({ type: 'request', id: 4, method: 'hosts.list', params: { pad: 'x'.repeat(MAX_MESSAGE_BYTES) } }));
      expect(await peer.next()).toMatchObject({ id: null, ok: false, error: { code: 'MESSAGE_TOO_LARGE' } });

      peer.send(Buffer.from([1, 2, 3]), true);
      const binary = (await peer.next()) as { error: { code: string; message: string } };
      expect(binary).toMatchObject({ id: null, ok: false, error: { code: 'BAD_JSON' } });
      expect(binary.error.message).toContain('binary frame');

      peer.send(JSON.stringify({ type: 'unsubscribe', id: 5, subscriptionId: 'never-made' }));
      expect(await peer.next()).toMatchObject({ id: 5, ok: false, error: { code: 'UNKNOWN_SUBSCRIPTION' } });

      // After all that, the same connection still answers a good request.
      peer.send(JSON.stringify({ type: 'request', id: 6, method: 'hosts.list', params: {} }));
      expect(await peer.next()).toMatchObject({ id: 6, ok: true });
    } finally {
      peer.close();
    }
  });

  it('maps a missing host to HOST_NOT_FOUND with a remedy', async () => {
    const error = await client.call('hosts.get', { hostId: 9999 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'HOST_NOT_FOUND' });
    expect((error as ApiError).remedy).not.toBe('');
  });
});

describe('the operator’s own machine', () => {
  it('appears as a host with the real core count and memory', async () => {
    const hosts = await client.call('hosts.list', {});
    const local = hosts.find((h) => h.kind === 'local');
    expect(local).toBeDefined();
    expect(local!.cpuThreads).toBe(os.cpus().length);
    const detail = await client.call('hosts.get', { hostId: local!.id });
    expect(detail.facts?.memory?.totalBytes).toBe(os.totalmem());
    expect(detail.facts?.os.hostname).toBe(os.hostname());
    expect(detail.facts?.os.arch).toBe(os.arch());
    expect(detail.facts?.filesystems?.some((f) => f.mount === '/')).toBe(process.platform === 'linux');
    const addresses = detail.facts?.network?.flatMap((n) => n.addresses.map((a) => a.address)) ?? [];
    expect(addresses).toContain('127.0.0.1');
  });

  it('streams live samples to a subscriber and stops after unsubscribe', async () => {
    const samples: LiveSample[] = [];
    const unsubscribe = await client.subscribe('metrics.live', { hostId: await localHostId() }, (s) => samples.push(s));
    const deadline = Date.now() + 5000;
    while (samples.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const cpu = samples[0]!.values['cpu.percent'];
    expect(cpu).toBeGreaterThanOrEqual(0);
    expect(cpu).toBeLessThanOrEqual(100);
    expect(samples[0]!.values['memory.used_bytes']).toBeGreaterThan(0);
    await unsubscribe();
    const count = samples.length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(samples.length).toBe(count);
  });

  it('stores samples so a reload can show history', async () => {
    const now = Date.now();
    const result = await client.call('metrics.query', {
      hostId: await localHostId(),
      metrics: ['cpu.percent', 'memory.used_bytes'],
      fromMs: now - 5 * 60_000,
      toMs: now + 1000,
      maxPoints: 300,
    });
    const cpu = result.series.find((s) => s.metric === 'cpu.percent');
    expect(cpu?.points.length).toBeGreaterThanOrEqual(2);
    expect(cpu!.points.length).toBeLessThanOrEqual(300);
  });

  it('keeps the web token out of the log file', async () => {
    running.backend.logger.flush?.();
    const log = fs.readFileSync(running.backend.logFile, 'utf8');
    expect(log).toContain('web mode listening');
    expect(log).not.toContain(running.token);
  });
});
