import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../electron/backend/app/backend';
import { createHostKeysRepo } from '../../electron/backend/store/host-keys-repo';
import { createHostsRepo } from '../../electron/backend/store/hosts-repo';
import { openStore } from '../../electron/backend/store/open-store';
import { commandLineActor } from '../../electron/backend/server/in-process-transport';
import type { ApiClient } from '../../electron/contract';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { addStandInHost } from '../support/stand-in-rows';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { connectApiClient, openWebModeSession } from '../support/web-mode-session';

/**
 * The Audit page as a newcomer meets it, in Debian's Chromium against `npm run web`: what a
 * command recorded before the app started (a host added and changed, an acknowledgement
 * that failed), filtered by outcome, action, target and who; an action taken from another
 * pipe while the page is open; the host-key decisions and refusals, a removed host's
 * included; and the chain shown broken, at the entry, once someone with the file edits it.
 */

const MISSING_ALERT = 987_654;

describe('the Audit page', () => {
  let page: Page;
  let url = '';
  let api: ApiClient;
  let dataDir = '';
  let hostId = 0;
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-audit-');
    defer(dir.remove);
    dataDir = dir.path;

    // Host-key decisions as the SSH layer records them: one host kept, one removed since.
    const store = openStore({ dataDir });
    try {
      const keys = createHostKeysRepo(store.db);
      const kept = addStandInHost(store.db, 'db-key-1', '198.18.251.1');
      keys.pin(
        kept.id,
        { keyType: 'ssh-ed25519', fingerprint: 'SHA256:keptKeyOne', publicKey: Buffer.from('k1') },
        Date.now() - 60_000,
        'desktop',
      );
      keys.recordRefusal(
        kept.id,
        { keyType: 'ssh-ed25519', fingerprint: 'SHA256:strangerKey' },
        'SHA256:keptKeyOne',
        Date.now() - 30_000,
        'probe',
      );
      const gone = addStandInHost(store.db, 'db-gone', '198.18.251.2');
      keys.pin(
        gone.id,
        { keyType: 'ssh-rsa', fingerprint: 'SHA256:goneKey', publicKey: Buffer.from('k2') },
        Date.now() - 20_000,
        'desktop',
      );
      createHostsRepo(store.db).remove(gone.id);
    } finally {
      store.close();
    }

    // What a command did before the app started: two changes and a failure.
    const backend = await startBackend({
      dataDir,
      logLevel: 'warn',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
    });
    const cli = backend.openClient('cli');
    try {
      hostId = (await cli.call('hosts.add', { name: 'audit-web-1', address: '198.18.251.3', user: 'root', auth: { method: 'agent' } })).id;
      await expect(cli.call('alerts.ack', { id: MISSING_ALERT })).rejects.toMatchObject({ code: 'ALERT_NOT_FOUND' });
      await cli.call('hosts.update', { hostId, changes: { labels: ['rack=b4'] } });
    } finally {
      cli.close();
      await backend.close();
    }

    const session = await openWebModeSession({ dataDir, problems });
    defer(session.close);
    ({ page, url } = session);
    api = await connectApiClient(url);
    defer(() => api.close());
  });

  const rows = () => page.getByTestId('audit-row');
  const methods = async () => rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-method')));
  const waitForMethods = async (expected: string[]) => {
    await expect.poll(methods, { timeout: 20_000 }).toEqual(expected);
  };

  it('shows who changed what, newest first, with the chain intact', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Audit', exact: true }).click();
    await page.getByTestId('audit-page').waitFor({ state: 'visible' });
    await waitForMethods(['hosts.update', 'alerts.ack', 'hosts.add']);

    const chain = page.getByTestId('audit-chain');
    await expect(chain.getAttribute('data-state')).resolves.toBe('intact');
    await expect(chain.getAttribute('data-entries')).resolves.toBe('3');
    await expect(chain.textContent()).resolves.toContain('Every entry is as appended: 3 entries');

    const failed = page.locator('[data-testid="audit-row"][data-method="alerts.ack"]');
    await expect(failed.getByTestId('audit-outcome-cell').textContent()).resolves.toBe('FailedALERT_NOT_FOUND');
    await expect(failed.getByTestId('audit-target-cell').textContent()).resolves.toBe(`alert ${MISSING_ALERT}`);
    await expect(failed.getByTestId('audit-who-cell').textContent()).resolves.toContain(commandLineActor());
    const added = page.locator('[data-testid="audit-row"][data-method="hosts.add"]');
    await expect(added.getByTestId('audit-target-cell').textContent()).resolves.toBe('host audit-web-1');
    await expect(added.getByTestId('audit-action-cell').textContent()).resolves.toBe('manage hostshosts · add');
    await shoot(page, 'audit-page', { fullPage: true });
  });

  it('filters by outcome, action, target and who', async () => {
    await page.getByTestId('audit-outcome').selectOption('error');
    await waitForMethods(['alerts.ack']);
    await page.getByTestId('audit-outcome').selectOption('');
    await page.getByTestId('audit-action').selectOption('manage-hosts');
    await waitForMethods(['hosts.update', 'hosts.add']);
    await page.getByTestId('audit-action').selectOption('');
    await page.getByTestId('audit-target').fill('alert');
    await waitForMethods(['alerts.ack']);
    await page.getByTestId('audit-target').fill('');
    await page.getByTestId('audit-who').fill('nobody-did-this');
    await page.getByText('No entry matches these filters').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Clear the filters' }).click();
    await waitForMethods(['hosts.update', 'alerts.ack', 'hosts.add']);
    await expect(page.getByTestId('audit-who').inputValue()).resolves.toBe('');
  });

  it('shows every host-key decision and refusal, a removed host’s too', async () => {
    const keys = page.getByTestId('host-key-row');
    await expect
      .poll(() => keys.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-host-name')} ${tr.getAttribute('data-event')}`)))
      .toEqual(['db-gone trusted', 'db-key-1 refused', 'db-key-1 trusted']);
    const refused = page.locator('[data-testid="host-key-row"][data-event="refused"]');
    await expect(refused.textContent()).resolves.toContain('Refused (key did not match)');
    await expect(refused.textContent()).resolves.toContain('SHA256:strangerKey');
    await expect(refused.textContent()).resolves.toContain('trusted before: SHA256:keptKeyOne');
    await page.getByTestId('audit-host-keys-host').fill('gone');
    await expect.poll(() => keys.count()).toBe(1);
    await page.getByTestId('audit-host-keys-host').fill('');
    await expect.poll(() => keys.count()).toBe(3);
  });

  it('shows an action from another window after a refresh, with that window’s pipe', async () => {
    await api.call('hosts.remove', { hostId });
    await page.getByTestId('audit-refresh').click();
    await waitForMethods(['hosts.remove', 'hosts.update', 'alerts.ack', 'hosts.add']);
    const removed = page.locator('[data-testid="audit-row"][data-method="hosts.remove"]');
    await expect(removed.getByTestId('audit-who-cell').textContent()).resolves.toMatch(/^web:[0-9a-f]{8}from ws:\d+$/);
    await expect(removed.getByTestId('audit-target-cell').textContent()).resolves.toBe('host audit-web-1');
    await expect(page.getByTestId('audit-chain').getAttribute('data-entries')).resolves.toBe('4');
  });

  it('shows the chain broken at the entry someone with the file edited', async () => {
    const db = new Database(path.join(dataDir, 'sutazai.db'));
    try {
      db.exec('DROP TRIGGER audit_log_no_update');
      db.prepare("UPDATE audit_log SET outcome = 'ok' WHERE seq = 2").run();
    } finally {
      db.close();
    }
    await page.getByTestId('audit-refresh').click();
    const chain = page.getByTestId('audit-chain');
    await expect.poll(() => chain.getAttribute('data-state')).toBe('broken');
    await expect(chain.getAttribute('data-seq')).resolves.toBe('2');
    // The row is marked where the chain breaks, and only that one.
    await expect
      .poll(() => page.locator('[data-testid="audit-row"][data-broken]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-seq'))))
      .toEqual(['2']);
    await expect(page.locator('[data-testid="audit-row"][data-seq="2"]').getAttribute('data-broken')).resolves.toBe('edited');
    await expect(chain.textContent()).resolves.toContain('The audit log is not as it was appended: entry 2 was edited.');
    await shoot(page, 'audit-page-broken');
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
