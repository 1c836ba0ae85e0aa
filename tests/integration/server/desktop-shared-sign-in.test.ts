// The desktop app runs as one operator chosen once (issue 14, item 1): its windows' pipes share
// one sign-in (ConnectionGrants.session, as the utility-process entry gives every port the
// shell hands it), so the operator signed in on one window is signed in on the next window and
// after a reload, until one signs out; a pipe with its own sign-in (a browser tab) shares
// nothing. Through the real backend's dispatcher, with the contract's JSON messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { createPipeSession, type PipeSession } from '../../../electron/backend/server/dispatcher';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-desktop-sign-in-');
let backend: Backend;
let seq = 0;
let peer = 0;

beforeAll(async () => {
  backend = await startQuietBackend(dir.path);
});
afterAll(async () => {
  await backend?.close();
  dir.remove();
});

interface Answer {
  ok: boolean;
  result?: { operator?: { name: string } | null; role?: string | null };
  error?: { code: string };
}

/** A window's pipe: its own sign-in, or the shared one. */
function pipe(session?: PipeSession) {
  const waiting = new Map<number, (answer: Answer) => void>();
  const connection = backend.dispatcher.connect(
    (text) => {
      const message = JSON.parse(text) as { type: string; id: number } & Answer;
      if (message.type === 'response') waiting.get(message.id)?.(message);
    },
    `port:${++peer}`,
    session ? { session } : {},
    'desktop',
  );
  return {
    call(method: string, params: object): Promise<Answer> {
      const id = ++seq;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        connection.receive(JSON.stringify({ type: 'request', id, method, params }));
      });
    },
    close: () => connection.close(),
  };
}

const whoIs = async (window: ReturnType<typeof pipe>) => (await window.call('session.whoami', {})).result?.operator?.name ?? null;

describe("the desktop app's windows share one sign-in", () => {
  it('keeps the operator chosen once across windows and reloads, until one signs out; a tab of its own shares nothing', async () => {
    const desktop = createPipeSession();
    const first = pipe(desktop);
    // The first operator, added from the app, is who the app goes on as.
    expect((await first.call('operators.add', { name: 'ada', role: 'admin', password: 'ada has a long password' })).ok).toBe(true);
    expect((await first.call('operators.add', { name: 'vera', role: 'viewer', password: 'vera has a long password' })).ok).toBe(true);
    expect(await whoIs(first)).toBe('ada');

    const second = pipe(desktop);
    const tab = pipe();
    expect(await whoIs(second)).toBe('ada');
    expect((await second.call('hosts.list', {})).ok).toBe(true);
    expect(await whoIs(tab)).toBeNull();
    expect((await tab.call('hosts.list', {})).error?.code).toBe('SIGN_IN_REQUIRED');

    // A reload: the old pipe closes, the new one is signed in already.
    first.close();
    const reloaded = pipe(desktop);
    expect(await whoIs(reloaded)).toBe('ada');

    // Signing out in one window signs the app out; the next sign-in counts in every window.
    await reloaded.call('session.signOut', {});
    expect(await whoIs(second)).toBeNull();
    expect((await second.call('hosts.list', {})).error?.code).toBe('SIGN_IN_REQUIRED');
    expect((await second.call('session.signIn', { name: 'vera', password: 'vera has a long password' })).ok).toBe(true);
    expect((await reloaded.call('session.whoami', {})).result).toMatchObject({ operator: { name: 'vera' }, role: 'viewer' });
    expect(await whoIs(tab)).toBeNull();
  });
});
