import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../../electron/backend/app/backend';
import { commandLineActor } from '../../../electron/backend/server/in-process-transport';
import { ApiError, changesState, METHOD_ACTIONS, type ApiClient, type MethodName } from '../../../electron/contract';
import { startQuietBackend } from '../../support/backend-harness';
import { makeTempDir } from '../../support/temp-dir';

/**
 * Every method whose action changes state (electron/contract/method-actions.ts) appends
 * exactly one audit entry per call, whether the call succeeds or fails, with the caller's
 * actor and peer, the method's action, what it named, and `ok` or the error code it ended
 * with; reads append nothing. Through a real backend (real SQLite) and the contract's
 * client on the command line's pipe (the one that may name files, so no method is refused
 * before its handler runs).
 */

/** An id no host, alert or job has. */
const MISSING = 987_654;
const PASSPHRASE = 'audit test passphrase 1';
const NEW_PASSPHRASE = 'audit test passphrase 2';
const BAD_FILE = { text: 'hosts: [', fileName: 'audit-install.yaml' };

interface Made {
  hostId: number;
}

/**
 * Params that parse for each state-changing method (the dispatcher refuses the others
 * before any handler). Most name nothing that exists and fail in the handler: that is
 * recorded too. A method that changes state without a row here fails the first test.
 */
const CALLS: Record<string, (made: Made) => unknown> = {
  'hosts.add': () => ({ name: 'audit-db-1', address: '198.18.250.1', user: 'root', auth: { method: 'agent' } }),
  'hosts.update': ({ hostId }) => ({ hostId, changes: { labels: ['rack=b4'] } }),
  'hosts.probe': () => ({ hostId: MISSING }),
  'hosts.trust': () => ({ hostId: MISSING, fingerprint: `SHA256:${'A'.repeat(43)}` }),
  'hosts.import': () => ({ text: 'hosts: []\n', fileName: 'audit-hosts.yaml' }),
  'hosts.importFile': () => ({ path: '/nonexistent/audit-hosts.yaml' }),
  'hosts.importKnownHosts': () => ({ text: '' }),
  'hosts.remove': ({ hostId }) => ({ hostId }),
  'probes.start': () => ({ hostIds: [MISSING] }),
  'probes.cancel': () => ({ jobId: 'no-such-probe-job' }),
  'preflight.run': () => ({ hostIds: [MISSING], profile: 'core' }),
  'bundles.import': () => ({ path: '/nonexistent/audit.sutazai-bundle' }),
  'installs.start': () => ({ install: { name: 'audit-lab', bundle: 'sutazai@9.9.9', hosts: [{ name: 'no-such-host', role: 'core' }] } }),
  'installs.cancel': () => ({ jobId: 'no-such-install-job' }),
  'installs.upgrade': () => ({ name: 'audit-lab', bundle: 'sutazai@9.9.9' }),
  'installs.rollback': () => ({ name: 'audit-lab' }),
  'installs.uninstall': () => ({ name: 'audit-lab' }),
  'installs.applyFile': () => ({ file: BAD_FILE }),
  'installs.rollbackFile': () => ({ file: BAD_FILE }),
  'installs.uninstallFile': () => ({ file: BAD_FILE }),
  'installs.cancelRun': () => ({ progressId: 'no-such-run' }),
  'wizard.save': () => ({
    draft: {
      step: 'bundle',
      bundleId: null,
      installName: 'audit-lab',
      hostIds: [],
      roles: [],
      environment: null,
      config: { name: 'install.yaml', text: '' },
      preflightAccepted: false,
      probeJobId: null,
      installJobId: null,
    },
  }),
  'wizard.discard': () => ({ draftId: 'no-such-draft' }),
  'secrets.unlock': () => ({ passphrase: PASSPHRASE }),
  'secrets.changePassphrase': () => ({ passphrase: PASSPHRASE, newPassphrase: NEW_PASSPHRASE }),
  'alerts.ack': () => ({ id: MISSING }),
  'fleet.start': () => ({ hostId: MISSING, process: 'agent' }),
  'fleet.stop': () => ({ hostId: MISSING, process: 'agent' }),
  'fleet.restart': () => ({ hostId: MISSING, process: 'agent' }),
  'fleet.scale': () => ({ hostId: MISSING, process: 'agent', replicas: 2 }),
  // A password too short: no operator is made, so no pipe has to sign in after it.
  'operators.add': () => ({ name: 'audit-admin', role: 'admin', password: 'short' }),
  'operators.set': () => ({ name: 'nobody-here', role: 'viewer' }),
  'operators.remove': () => ({ name: 'nobody-here' }),
  'session.signIn': () => ({ name: 'nobody-here', password: 'not the password' }),
  // No sign-in-provider.yaml here: each refused with OIDC_SIGN_IN_NOT_CONFIGURED, and recorded.
  'session.signInWithProvider': () => ({}),
  'session.completeProviderSignIn': () => ({ state: 'no-such-state', code: 'no-such-code', binding: 'no-such-binding' }),
  // No provider sign-in waits on this ticket: refused with OIDC_SIGN_IN_FAILED, and recorded.
  'session.completeProviderSecondStep': () => ({ ticket: 'no-such-ticket', code: '123456' }),
  // Nothing waits on this ticket: answered cancelled false, and recorded.
  'session.cancelProviderSecondStep': () => ({ ticket: 'no-such-ticket' }),
  'session.signOut': () => ({}),
  'session.stepUp': () => ({ code: '123456' }),
  'mfa.enrolBegin': () => ({}),
  'mfa.enrolConfirm': () => ({ code: '123456' }),
  'mfa.reset': () => ({ name: 'nobody-here' }),
  'mfa.setStepUp': () => ({ required: true }),
  'mfa.setWebRequired': () => ({ required: true }),
  // No sign-in waits for a two-factor set-up on this ticket: refused with MFA_ENROLMENT_ENDED (cancel: answered false), and recorded.
  'session.beginWebEnrolment': () => ({ ticket: 'no-such-ticket' }),
  'session.confirmWebEnrolment': () => ({ ticket: 'no-such-ticket', code: '123456' }),
  'session.cancelWebEnrolment': () => ({ ticket: 'no-such-ticket' }),
  // Its folder does not exist: refused (BACKUP_OUT_UNWRITABLE), and recorded.
  'store.backup': () => ({ path: '/nonexistent/audit.sutazai-backup' }),
  'sessions.revoke': () => ({ id: MISSING }),
  'configBundles.export': () => ({ path: '/nonexistent/audit.sutazai-config', format: 'bundle' }),
  'configBundles.import': () => ({ path: '/nonexistent/audit.sutazai-config', items: 'all', sha256: '0'.repeat(64) }),
  'configBundles.revokeExporter': () => ({ fingerprint: `SHA256:${'Z'.repeat(43)}` }),
  // Web mode's twins: an export offered as a download (made, ok), an import of an upload never sent (refused).
  'configBundles.exportDownload': () => ({ format: 'yaml' }),
  'configBundles.importUpload': () => ({ uploadId: 'no-such-upload', items: 'all', sha256: '0'.repeat(64) }),
  'bundles.importUpload': () => ({ uploadId: 'no-such-upload' }),
  'support.collect': () => ({ target: { hostId: MISSING } }),
  'support.preview': () => ({ previewId: 'no-such-preview', redaction: {} }),
  'support.save': () => ({ previewId: 'no-such-preview', redaction: {}, path: '/nonexistent/audit-support.tar' }),
  'support.download': () => ({ previewId: 'no-such-preview', redaction: {} }),
  // No such operator or install: refused, and recorded.
  'operators.certificateIssue': () => ({ name: 'nobody-here', install: 'no-such-install' }),
  'operators.certificateRevoke': () => ({ name: 'nobody-here', all: true }),
  'access.rotateKey': () => ({ install: 'no-such-install' }),
  // No such host: refused, and recorded.
  'audit.acceptHostReset': () => ({ host: 'no-such-host', head: { seq: 1, hash: '0'.repeat(64) } }),
};

const stateChanging = (Object.keys(METHOD_ACTIONS) as MethodName[]).filter((method) => changesState(METHOD_ACTIONS[method]));

const dir = makeTempDir('sutazai-audit-every-');
let backend: Backend;
let api: ApiClient;

beforeAll(async () => {
  backend = await startQuietBackend(dir.path);
  api = backend.openClient('cli');
});
afterAll(async () => {
  api?.close();
  await backend?.close();
  dir.remove();
});

async function outcomeOf(method: MethodName, params: unknown): Promise<{ outcome: string; result: unknown; message: string }> {
  const answer = await api.call(method, params as never).then(
    (result: unknown) => ({ outcome: 'ok', result, message: '' }),
    (error: unknown) => {
      if (!(error instanceof ApiError)) throw error;
      return { outcome: error.code as string, result: null, message: error.message };
    },
  );
  return answer;
}

describe('the audit log records every state-changing call', () => {
  it('has a call for every state-changing method', () => {
    expect(stateChanging.filter((method) => CALLS[method] === undefined)).toEqual([]);
  });

  it('appends exactly one entry per call, with who, from where, what and the outcome', async () => {
    const made: Made = { hostId: MISSING };
    // hosts.add first (its host is updated, then removed last), the rest in table order.
    const order = Object.keys(CALLS).filter((method): method is MethodName => stateChanging.includes(method as MethodName));
    const seen = new Map<string, string>();
    for (const method of order) {
      const before = (await api.call('audit.verify', {})).entries;
      const { outcome, result, message } = await outcomeOf(method, CALLS[method]!(made));
      if (method === 'hosts.add') made.hostId = (result as { id: number }).id;
      const { entries } = await api.call('audit.list', { limit: 2 });
      // None when the dispatcher refused the params before the handler ran: then the row needs fixing.
      expect((await api.call('audit.verify', {})).entries, `${method} (${outcome}: ${message})`).toBe(before + 1);
      expect(entries[0], method).toMatchObject({
        seq: before + 1,
        method,
        action: METHOD_ACTIONS[method],
        actor: commandLineActor(),
        peer: 'cli',
        operator: null,
        outcome,
      });
      seen.set(method, outcome);
    }
    expect([...seen.keys()].sort()).toEqual([...stateChanging].sort());
    // Failures are recorded with their codes, successes as ok.
    expect(seen.get('hosts.add')).toBe('ok');
    expect(seen.get('hosts.probe')).toBe('HOST_NOT_FOUND');
    expect(seen.get('alerts.ack')).toBe('ALERT_NOT_FOUND');

    const all = (await api.call('audit.list', { order: 'oldest', limit: 200 })).entries;
    const targetOf = (method: string) => all.find((entry) => entry.method === method)!.target;
    // Named as the operator knows it, the removed host too (read before the removal).
    expect(targetOf('hosts.add')).toBe('host audit-db-1');
    expect(targetOf('hosts.update')).toBe('host audit-db-1');
    expect(targetOf('hosts.remove')).toBe('host audit-db-1');
    expect(targetOf('hosts.probe')).toBe(`host #${MISSING}`);
    expect(targetOf('fleet.scale')).toBe(`host #${MISSING}, process agent, replicas 2`);
    expect(targetOf('installs.start')).toBe('install audit-lab');
    expect(targetOf('installs.applyFile')).toBe('file audit-install.yaml');
    expect(targetOf('bundles.import')).toBe('file /nonexistent/audit.sutazai-bundle');
    expect(targetOf('secrets.unlock')).toBeNull();
    // No secret from any params is anywhere in the log.
    const text = JSON.stringify(all);
    for (const secret of [PASSPHRASE, NEW_PASSPHRASE, 'not the password', 'hosts: [']) expect(text).not.toContain(secret);
    expect(await api.call('audit.verify', {})).toMatchObject({ entries: stateChanging.length, broken: null });
  });

  it('appends nothing for reads', async () => {
    const before = (await api.call('audit.verify', {})).entries;
    await api.call('app.info', {});
    await api.call('hosts.list', {});
    await api.call('events.list', {});
    await api.call('audit.list', {});
    await api.call('audit.hostKeys', {});
    await api.call('installs.list', {});
    await api.call('secrets.status', {});
    expect((await api.call('audit.verify', {})).entries).toBe(before);
  });
});
