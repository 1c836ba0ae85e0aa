import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { startBackend } from '../../electron/backend/app/backend';
import { createHostKeysRepo } from '../../electron/backend/store/host-keys-repo';
import { openStore } from '../../electron/backend/store/open-store';
import { shoot } from '../support/e2e-screenshots';
import { addStandInHost } from '../support/stand-in-rows';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';
import { gotoPage } from '../support/chromium';

/**
 * Importing a configuration bundle from another control center on the Configuration page,
 * in Debian's Chromium against `npm run web`, as a newcomer meets it: the file is chosen on
 * the browser's computer and uploaded (web mode names no path on the backend's machine),
 * reviewed before anything changes, the unknown exporter is shown by fingerprint and must be
 * confirmed, a host key that differs from the pinned one is flagged and left out unless
 * ticked on purpose, and an export downloaded through the browser.
 */

const PINNED = {
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:pinnedHereAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  publicKey: Buffer.alloc(51, 1),
};
const IN_FILE = {
  keyType: 'ssh-ed25519',
  fingerprint: 'SHA256:inTheFileBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
  publicKey: Buffer.alloc(51, 2),
};

describe('configuration export and import on the Configuration page', () => {
  let page: Page;
  let url = '';
  let dataDir = '';
  let bundle = '';
  let signer = '';
  let scratch = '';
  const problems: string[] = [];

  const pinned = () => {
    const store = openStore({ dataDir });
    try {
      const row = store.db.prepare("SELECT k.fingerprint FROM host_keys k JOIN hosts h ON h.id = k.host_id WHERE h.name = 'db-1'").get() as
        { fingerprint: string } | undefined;
      return row?.fingerprint ?? null;
    } finally {
      store.close();
    }
  };

  setUpSuite(async (defer) => {
    const dir = makeTempDir('sutazai-e2e-config-transfer-');
    defer(dir.remove);
    scratch = dir.path;
    const origin = path.join(scratch, 'origin');
    dataDir = path.join(scratch, 'site');
    fs.mkdirSync(origin);
    fs.mkdirSync(dataDir);

    // The exporting control center: two hosts, db-1's key pinned, exported as a signed bundle (no
    // secrets). Password logins: a browser may import them (the password is asked for later),
    // while a key file or SSH agent on the backend's machine is blocked from a page.
    const backend = await startBackend({
      dataDir: origin,
      logLevel: 'warn',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
      fleetLinks: false,
      evaluateAlerts: false,
      vaultKey: { kind: 'passphrase', passphrase: 'origin vault passphrase' },
    });
    const cli = backend.openClient('cli');
    try {
      await cli.call('hosts.add', {
        name: 'db-1',
        address: '198.18.252.1',
        user: 'sutazai',
        auth: { method: 'password', password: 'origin ssh password' },
        labels: ['rack=b4'],
      });
      await cli.call('hosts.add', {
        name: 'web-1',
        address: '198.18.252.2',
        user: 'sutazai',
        auth: { method: 'password', password: 'origin ssh password' },
      });
      await cli.call('hosts.add', { name: 'jump-1', address: '198.18.252.3', user: 'sutazai', auth: { method: 'agent' } });
    } finally {
      cli.close();
      await backend.close();
    }
    let store = openStore({ dataDir: origin });
    try {
      const id = (store.db.prepare("SELECT id FROM hosts WHERE name = 'db-1'").get() as { id: number }).id;
      createHostKeysRepo(store.db).pin(id, IN_FILE, 5, 'test');
    } finally {
      store.close();
    }
    const exporter = await startBackend({
      dataDir: origin,
      logLevel: 'warn',
      mode: 'test',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
      fleetLinks: false,
      evaluateAlerts: false,
      vaultKey: { kind: 'passphrase', passphrase: 'origin vault passphrase' },
    });
    const client = exporter.openClient('cli');
    try {
      bundle = path.join(scratch, 'site.sutazai-config');
      signer = (await client.call('configBundles.export', { path: bundle, format: 'bundle' })).signedBy!;
    } finally {
      client.close();
      await exporter.close();
    }

    // The receiving site already knows db-1, pinned to another key.
    store = openStore({ dataDir });
    try {
      const db1 = addStandInHost(store.db, 'db-1', '198.18.252.1');
      createHostKeysRepo(store.db).pin(db1.id, PINNED, 5, 'test');
    } finally {
      store.close();
    }

    const session = await openWebModeSession({ dataDir, problems, env: { SUTAZAI_PASSPHRASE: 'site vault passphrase' } });
    defer(session.close);
    ({ page, url } = session);
  });

  it('reviews the file first, asks to confirm the exporter and leaves the conflicting host key unless ticked', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Configuration', exact: true }).click();
    const section = page.getByTestId('config-import');
    await section.waitFor({ state: 'visible' });
    // Web mode: no path on the backend's machine is asked for, to import or to export.
    expect(await page.getByTestId('config-import-path').count()).toBe(0);
    expect(await page.getByTestId('config-export-path').count()).toBe(0);
    await page.getByTestId('config-import-file').setInputFiles(bundle);
    await page.getByTestId('config-review-button').click();

    await expect(page.getByTestId('config-review-signer').textContent()).resolves.toContain(`not trusted yet: ${signer}`);
    const keyRow = page.locator('[data-item="host-key:db-1"]');
    await expect(keyRow.getAttribute('data-status')).resolves.toBe('conflict');
    await expect(keyRow.getByTestId('config-item-reason').textContent()).resolves.toContain('HOST KEY DIFFERS');
    await expect(keyRow.getByRole('checkbox').isChecked()).resolves.toBe(false);
    await expect(page.locator('[data-item="host:web-1"]').getByRole('checkbox').isChecked()).resolves.toBe(true);
    // A login through the backend's SSH agent cannot be set from a page: blocked, with the way round.
    const agentRow = page.locator('[data-item="host:jump-1"]');
    await expect(agentRow.getAttribute('data-status')).resolves.toBe('blocked');
    await expect(agentRow.getByTestId('config-item-reason').textContent()).resolves.toContain('Paste key');

    const importButton = page.getByTestId('config-import-button');
    await expect(importButton.isDisabled()).resolves.toBe(true);
    await page.getByTestId('config-trust-exporter').getByRole('checkbox').check();
    await expect(importButton.isDisabled()).resolves.toBe(false);
    await shoot(page, 'config-import-review', { fullPage: true });
    await importButton.click();

    await expect(page.getByTestId('config-import-result').textContent()).resolves.toContain('host:web-1');
    // Reviewed again (the file sent anew: an imported upload is removed): web-1 is now as the file says; the conflicting key is still the pinned one.
    await expect.poll(() => page.locator('[data-item="host:web-1"]').getAttribute('data-status'), { timeout: 20_000 }).toBe('unchanged');
    expect(pinned()).toBe(PINNED.fingerprint);
    await expect(page.getByTestId('config-review-signer').textContent()).resolves.toContain('trusted exporter');

    // Ticked on purpose: then it is pinned.
    await page.locator('[data-item="host-key:db-1"]').getByRole('checkbox').check();
    await page.getByTestId('config-import-button').click();
    await expect.poll(() => page.locator('[data-item="host-key:db-1"]').getAttribute('data-status'), { timeout: 20_000 }).toBe('unchanged');
    expect(pinned()).toBe(IN_FILE.fingerprint);
  });

  it('refuses a damaged file with its reason and downloads a YAML export from the page', async () => {
    const damaged = path.join(scratch, 'damaged.sutazai-config');
    fs.writeFileSync(damaged, fs.readFileSync(bundle).subarray(0, 1500));
    await page.getByTestId('config-import-file').setInputFiles(damaged);
    await page.getByTestId('config-review-button').click();
    const refusal = await page.getByTestId('config-import').getByRole('alert').textContent();
    expect(refusal).toContain('CONFIG_BUNDLE_DAMAGED');
    // Named as the browser's person knows the file, not by where the backend keeps the upload.
    expect(refusal).toContain('damaged.sutazai-config');
    expect(refusal).not.toContain(dataDir);

    const out = path.join(scratch, 'site.yaml');
    await page.getByTestId('config-export-yaml').check();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('config-export-button').click()]);
    await download.saveAs(out);
    expect(download.suggestedFilename()).toMatch(/^sutazai-config-site-[0-9a-f]{12}\.yaml$/);
    await expect(page.getByTestId('config-export-result').textContent()).resolves.toContain(`Downloaded ${download.suggestedFilename()}`);
    await expect(page.getByTestId('config-export-result').textContent()).resolves.toContain('2 hosts');
    expect(fs.readFileSync(out, 'utf8')).toContain('rack=b4');
    // Served once, then not kept on the backend's machine.
    await expect
      .poll(() => fs.readdirSync(path.join(dataDir, 'downloads'), { recursive: true }).filter((n) => String(n).endsWith('.yaml')))
      .toEqual([]);
    await shoot(page, 'config-export-downloaded', { fullPage: true });
    expect(problems).toEqual([]);
  });

  it('offers no import of a file chosen after the review, and revokes the trusted exporter', async () => {
    const file = path.join(scratch, 'swap.yaml');
    const other = path.join(scratch, 'other.yaml');
    const text = fs.readFileSync(path.join(scratch, 'site.yaml'), 'utf8');
    fs.writeFileSync(file, text.replace('rack=b4', 'rack=c5'));
    fs.writeFileSync(other, text.replace('rack=b4', 'rack=d6'));
    await page.getByTestId('config-import-file').setInputFiles(file);
    await page.getByTestId('config-review-button').click();
    await expect(page.locator('[data-item="host:db-1"]').getAttribute('data-status')).resolves.toBe('changed');
    await expect(page.getByTestId('config-review-sha256').textContent()).resolves.toMatch(/SHA-256 [0-9a-f]{64}/);
    // Another file chosen after the review: the review (and its import button) goes until that file is reviewed.
    await page.getByTestId('config-import-file').setInputFiles(other);
    await page.getByTestId('config-review').waitFor({ state: 'detached' });
    expect(await page.getByTestId('config-import-button').count()).toBe(0);
    const labels = () => {
      const store = openStore({ dataDir });
      try {
        return (store.db.prepare("SELECT labels FROM hosts WHERE name = 'db-1'").get() as { labels: string }).labels;
      } finally {
        store.close();
      }
    };
    expect(labels()).toContain('rack=b4');

    const trusted = page.getByTestId('config-trusted-exporters');
    await expect(trusted.locator(`[data-fingerprint="${signer}"]`).count()).resolves.toBe(1);
    await trusted.getByTestId('config-revoke').click();
    await shoot(page, 'config-trusted-exporters', { fullPage: true });
    await trusted.getByTestId('config-revoke-confirm').click();
    await trusted.getByTestId('config-trusted-none').waitFor({ state: 'visible' });
    await page.getByTestId('config-import-file').setInputFiles(bundle);
    await page.getByTestId('config-review-button').click();
    await expect
      .poll(() => page.getByTestId('config-review-signer').textContent(), { timeout: 20_000 })
      .toContain(`not trusted yet: ${signer}`);
    expect(problems).toEqual([]);
  });
});
