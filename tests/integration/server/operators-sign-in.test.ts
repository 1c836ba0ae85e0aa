// Operators and sign-in per pipe, through the real backend behind the real web server:
// each WebSocket is its own pipe with its own sign-in. While no operator exists every pipe
// is the one admin (the bootstrap); once one does, a pipe signs in before anything but
// app.info and session.*; each call is checked against the operator's role as it is now
// (a changed role, a disabled or removed operator count at the next call), and each open
// subscription against it as it is now (a disabled, removed or signed-out operator's end,
// each saying why).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '../../../electron/contract';
import { apiPipes, codeOf } from '../../support/api-pipes';
import { startTestBackend, type RunningBackend } from '../../support/backend-harness';
import { makeWaitFor } from '../../support/wait-for';

const waitFor = makeWaitFor({ timeoutMs: 30_000, pollMs: 50 });

let running: RunningBackend;
const pipes = apiPipes(() => running);

beforeAll(async () => {
  running = await startTestBackend({ sampleLocalHost: false, probeAtStart: false });
});
afterAll(async () => {
  pipes.closeAll();
  await running?.stop();
});

/** A new pipe: a browser tab of its own. */
const pipe = (): Promise<ApiClient> => pipes.open();

const password = (name: string) => `the password of ${name}`;

describe('operators and sign-in per pipe', () => {
  let admin: ApiClient;
  let localHostId = 0;

  it('with no operator, acts as the one admin on every pipe; the first operator must be an admin', async () => {
    admin = await pipe();
    expect(await admin.call('session.whoami', {})).toEqual({ operatorsExist: false, operator: null, role: 'admin' });
    localHostId = (await admin.call('hosts.list', {}))[0]!.id;
    expect(await codeOf(admin.call('operators.add', { name: 'vera', role: 'viewer', password: password('vera') }))).toBe(
      'OPERATOR_LAST_ADMIN',
    );
    const ada = await admin.call('operators.add', { name: 'ada', role: 'admin', password: password('ada') });
    expect(ada).toMatchObject({ name: 'ada', role: 'admin', disabled: false, attributes: {} });
    // The pipe that added the first operator goes on as it, instead of being locked out.
    expect(await admin.call('session.whoami', {})).toMatchObject({ operatorsExist: true, operator: { name: 'ada' }, role: 'admin' });
    await admin.call('operators.add', { name: 'vera', role: 'viewer', password: password('vera') });
    await admin.call('operators.add', {
      name: 'otto',
      role: 'operator',
      password: password('otto'),
      attributes: { team: 'night', hostLabels: ['rack=b4'] },
    });
    expect((await admin.call('operators.list', {})).map((o) => [o.name, o.role])).toEqual([
      ['ada', 'admin'],
      ['otto', 'operator'],
      ['vera', 'viewer'],
    ]);
  });

  it('asks a new pipe to sign in first, answering only app.info and session.*; a wrong password is refused', async () => {
    const tab = await pipe();
    expect(await tab.call('session.whoami', {})).toEqual({ operatorsExist: true, operator: null, role: null });
    expect((await tab.call('app.info', {})).mode).toBe('test');
    const refused = await tab.call('hosts.list', {}).catch((error: ApiError) => error);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).toBody()).toMatchObject({
      code: 'SIGN_IN_REQUIRED',
      remedy: 'Sign in with your operator name and password.',
    });
    expect(await codeOf(tab.subscribe('hosts.changed', {}, () => {}))).toBe('SIGN_IN_REQUIRED');
    expect(await codeOf(tab.call('session.signIn', { name: 'vera', password: password('ada') }))).toBe('SIGN_IN_FAILED');
    expect(await codeOf(tab.call('session.signIn', { name: 'nobody', password: password('vera') }))).toBe('SIGN_IN_FAILED');
    expect(await codeOf(tab.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
  });

  it("gives a viewer what it may watch and refuses the rest with ACCESS_DENIED; another pipe's sign-in is its own", async () => {
    const viewer = await pipe();
    expect(await viewer.call('session.signIn', { name: 'VERA', password: password('vera') })).toMatchObject({
      operator: { name: 'vera', role: 'viewer' },
      role: 'viewer',
    });
    expect((await viewer.call('hosts.list', {})).length).toBeGreaterThan(0);
    const unsubscribe = await viewer.subscribe('hosts.changed', {}, () => {});
    await unsubscribe();
    const forced = await viewer.call('fleet.restart', { hostId: localHostId, process: 'agent' }).catch((error: ApiError) => error);
    expect((forced as ApiError).toBody()).toEqual({
      code: 'ACCESS_DENIED',
      message: 'vera is a viewer, and a viewer may not start, stop or restart processes (fleet.restart).',
      remedy: 'Ask an admin to do it, or to give you a role that may.',
    });
    expect(await codeOf(viewer.call('hosts.remove', { hostId: localHostId }))).toBe('ACCESS_DENIED');
    expect(await codeOf(viewer.call('operators.add', { name: 'eve', role: 'admin', password: password('eve') }))).toBe('ACCESS_DENIED');
    // Nothing was added by the refused call.
    expect((await admin.call('operators.list', {})).map((o) => o.name)).not.toContain('eve');
    // A pipe opened after vera signed in elsewhere is not vera.
    expect(await codeOf((await pipe()).call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
  });

  it("lets an operator's process controls through (on to the host's own answer) and refuses it admin actions", async () => {
    const otto = await pipe();
    await otto.call('session.signIn', { name: 'otto', password: password('otto') });
    // Past the role check: the local machine is in no install, which is the fleet's own refusal.
    expect(await codeOf(otto.call('fleet.restart', { hostId: localHostId, process: 'agent' }))).toBe('FLEET_HOST_NOT_INSTALLED');
    expect(await codeOf(otto.call('fleet.scale', { hostId: localHostId, process: 'agent', replicas: 2 }))).toBe('FLEET_HOST_NOT_INSTALLED');
    expect(await codeOf(otto.call('operators.remove', { name: 'vera' }))).toBe('ACCESS_DENIED');
    expect(await codeOf(otto.call('installs.uninstall', { name: 'any' }))).toBe('ACCESS_DENIED');
  });

  it("applies a changed role, a disabled and a removed operator at the pipe's next call", async () => {
    const viewer = await pipe();
    await viewer.call('session.signIn', { name: 'vera', password: password('vera') });
    expect(await codeOf(viewer.call('fleet.restart', { hostId: localHostId, process: 'agent' }))).toBe('ACCESS_DENIED');
    await admin.call('operators.set', { name: 'vera', role: 'operator' });
    expect(await codeOf(viewer.call('fleet.restart', { hostId: localHostId, process: 'agent' }))).toBe('FLEET_HOST_NOT_INSTALLED');
    expect((await viewer.call('session.whoami', {})).role).toBe('operator');

    await admin.call('operators.set', { name: 'vera', disabled: true });
    expect(await codeOf(viewer.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
    expect(await codeOf(viewer.call('session.signIn', { name: 'vera', password: password('vera') }))).toBe('SIGN_IN_FAILED');

    const otto = await pipe();
    await otto.call('session.signIn', { name: 'otto', password: password('otto') });
    await admin.call('operators.remove', { name: 'otto' });
    expect(await codeOf(otto.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');

    // The last enabled admin stays.
    expect(await codeOf(admin.call('operators.set', { name: 'ada', role: 'viewer' }))).toBe('OPERATOR_LAST_ADMIN');
    expect(await codeOf(admin.call('operators.remove', { name: 'ada' }))).toBe('OPERATOR_LAST_ADMIN');
  });

  it('ends the open subscriptions of an operator disabled, removed or signed out, each saying why; a demoted one keeps what a viewer may receive', async () => {
    for (const [name, role] of [
      ['wendy', 'operator'],
      ['max', 'operator'],
      ['lea', 'admin'],
      ['sam', 'viewer'],
    ] as const)
      await admin.call('operators.add', { name, role, password: password(name) });
    /** A pipe signed in as `name`, subscribed to hosts.changed and alerts.changed: what each received, and how each ended. */
    const watching = async (name: string) => {
      const client = await pipe();
      await client.call('session.signIn', { name, password: password(name) });
      const seen = { hosts: [] as number[], ended: [] as Array<[string, ReturnType<ApiError['toBody']>]> };
      await client.subscribe(
        'hosts.changed',
        {},
        ({ hostId }) => void seen.hosts.push(hostId),
        (error) => void seen.ended.push(['hosts.changed', error.toBody()]),
      );
      await client.subscribe(
        'alerts.changed',
        {},
        () => {},
        (error) => void seen.ended.push(['alerts.changed', error.toBody()]),
      );
      return { client, seen };
    };
    const wendy = await watching('wendy');
    const max = await watching('max');
    const lea = await watching('lea');
    const sam = await watching('sam');

    // A demotion first: every check that sees wendy disabled (below) sees lea a viewer too.
    await admin.call('operators.set', { name: 'lea', role: 'viewer' });
    await admin.call('operators.set', { name: 'wendy', disabled: true });
    await waitFor('wendy’s subscriptions ended', () => wendy.seen.ended.length === 2);
    expect(wendy.seen.ended.map(([event]) => event).sort()).toEqual(['alerts.changed', 'hosts.changed']);
    for (const [event, error] of wendy.seen.ended)
      expect(error).toMatchObject({
        code: 'SIGN_IN_REQUIRED',
        message: `Sign in as an operator before ${event}: this control center has operators.`,
        remedy: 'Sign in with your operator name and password.',
      });

    await admin.call('operators.remove', { name: 'max' });
    await waitFor('max’s subscriptions ended', () => max.seen.ended.length === 2);
    expect(max.seen.ended.map(([, error]) => error.code)).toEqual(['SIGN_IN_REQUIRED', 'SIGN_IN_REQUIRED']);

    await sam.client.call('session.signOut', {});
    await waitFor('sam’s subscriptions ended', () => sam.seen.ended.length === 2);
    expect(sam.seen.ended.map(([, error]) => error.code)).toEqual(['SIGN_IN_REQUIRED', 'SIGN_IN_REQUIRED']);

    // lea, a viewer now, may still watch: hers go on and receive the next change; the ended ones receive nothing.
    expect(lea.seen.ended).toEqual([]);
    await admin.call('hosts.probe', { hostId: localHostId });
    await waitFor('lea hears of the probed host', () => lea.seen.hosts.includes(localHostId));
    expect(lea.seen.ended).toEqual([]);
    expect([...wendy.seen.hosts, ...max.seen.hosts, ...sam.seen.hosts]).toEqual([]);
  });

  it('signs a pipe out', async () => {
    const tab = await pipe();
    await tab.call('session.signIn', { name: 'ada', password: password('ada') });
    expect((await tab.call('hosts.list', {})).length).toBeGreaterThan(0);
    expect(await tab.call('session.signOut', {})).toEqual({ operatorsExist: true, operator: null, role: null });
    expect(await codeOf(tab.call('hosts.list', {}))).toBe('SIGN_IN_REQUIRED');
  });
});
