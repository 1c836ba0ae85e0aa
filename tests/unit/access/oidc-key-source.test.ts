// The control center's reads of the OpenID Connect provider's keys (oidc-key-source.ts)
// against a real HTTP server on 127.0.0.1 that trickles its answer one byte at a time (never
// idle long enough for the idle timeout): the whole fetch ends at its deadline, the request
// is destroyed (the server sees its socket close), and another source's new keys count
// before the stalled one's read ends. Plain http is taken on literal loopback only.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOidcKeySource } from '../../../electron/backend/oidc/oidc-key-source';
import type { OAuth2Config } from '../../../electron/backend/oidc/oidc-settings';

const PUBLIC_JWK = {
  kty: 'EC',
  crv: 'P-256',
  kid: 'k1',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
};
/** At most this many trickled bytes (50 ms apart), so a read the code under test fails to end still ends. */
const MAX_TRICKLED_BYTES = 200;

let server: http.Server;
let issuer: string;
let dir: string;
const sockets = new Set<Socket>();
const events: string[] = [];
let socketClosed: () => void = () => undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-oidc-keys-'));
  server = http.createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent++ >= MAX_TRICKLED_BYTES || response.destroyed) {
        clearInterval(trickle);
        response.end();
        return;
      }
      response.write(' ');
    }, 50);
    request.socket.on('close', () => {
      clearInterval(trickle);
      events.push('provider socket closed');
      socketClosed();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/slow`;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dir, { recursive: true, force: true });
});

function config(changes: Partial<OAuth2Config>): OAuth2Config {
  return {
    issuer,
    client_id: 'sutazai',
    audience: 'sutazai',
    algorithms: ['ES256'],
    operator_claim: 'sub',
    role_claim: 'groups',
    role_map: { ops: 'operator' },
    max_token_lifetime_seconds: 3600,
    refresh_seconds: 60,
    ...changes,
  };
}

describe('reading the provider keys', () => {
  it('ends a trickling fetch at its deadline, destroying the request, and reads another source without waiting for it', async () => {
    events.length = 0;
    const pinned = path.join(dir, 'jwks.json');
    fs.writeFileSync(pinned, JSON.stringify({ keys: [PUBLIC_JWK] }));
    const slow = config({});
    const offline = config({ issuer: 'https://sso.example.org/realms/offline', jwks_file: pinned });
    const source = createOidcKeySource({ changed: () => events.push('keys changed'), fetchDeadlineMs: 1500 });
    const closed = new Promise<void>((resolve) => (socketClosed = resolve));
    await source.refresh([slow, offline]);
    await closed; // the deadline destroyed the request: the provider sees its socket close
    // The pinned source's keys counted (and were pushed) while the provider still trickled.
    expect(events).toEqual(['keys changed', 'provider socket closed']);
    expect(source.keysFor(offline)).toContain('"kid":"k1"');
    expect(source.keysFor(slow)).toBeNull();
    expect(source.problemOf(slow)).toMatchObject({
      code: 'OIDC_PROVIDER_UNAVAILABLE',
      message: expect.stringMatching(/no complete answer within 1500 ms/),
    });
  }, 8000);

  it('fetches plain http only from the literal loopback addresses, never from a name such as localhost', async () => {
    const source = createOidcKeySource({ changed: () => undefined, fetchDeadlineMs: 1500 });
    const byName = config({ issuer: issuer.replace('127.0.0.1', 'localhost') });
    events.length = 0;
    await source.refresh([byName]);
    expect(source.problemOf(byName)).toMatchObject({
      code: 'OIDC_PROVIDER_UNAVAILABLE',
      message: expect.stringMatching(/is not https \(plain http is allowed on loopback only\)/),
    });
    expect(events).toEqual([]); // nothing was fetched
  }, 8000);
});
