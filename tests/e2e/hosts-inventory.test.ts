import { readFile } from 'node:fs/promises';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { recordAttributeHistory } from '../support/attribute-history';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { createTestLab, type TarpitHost, type TestHost, type TestLab } from '../support/test-hosts/test-hosts';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';

/**
 * The SSH inventory as an operator uses it: Debian's Chromium against `npm run web`, and
 * a real OpenSSH server in a network namespace (tests/support/test-hosts). Add a host
 * through the dialog and confirm its key, probe it in bulk, read its facts, run a
 * preflight, meet a changed host key, import a host list. Needs root (the lab does).
 */

/** A probe over SSH is bounded by the app at 20 s per host; leave room for the local one. */
const PROBE_TIMEOUT_MS = 60_000;
const PASSPHRASE = 'e2e passphrase that seals the test secrets';
const HOST_NAME = 'lab-1';

function row(page: Page, name: string): Locator {
  return page.locator(`[data-testid="host-row"][data-host-name="${name}"]`);
}

/** The connection fields of the Add host dialog, for a key login to `target` with its key pasted. */
async function fillKeyHost(
  dialog: Locator,
  name: string,
  target: Pick<TestHost, 'address' | 'port' | 'user' | 'privateKey'>,
): Promise<void> {
  await dialog.locator('input[name="name"]').fill(name);
  await dialog.locator('input[name="address"]').fill(target.address);
  await dialog.locator('input[name="port"]').fill(String(target.port));
  await dialog.locator('input[name="user"]').fill(target.user);
  // Web mode: the key itself, pasted (no file on the backend's machine can be named from a browser).
  await dialog.locator('textarea[name="privateKey"]').fill(target.privateKey.toString('utf8'));
}

describe('SSH inventory, end to end', () => {
  let lab: TestLab;
  let host: TestHost;
  let tarpit: TarpitHost;
  let page: Page;
  let url = '';
  const problems: string[] = [];

  setUpSuite(async (defer) => {
    const dataDir = makeTempDir('sutazai-e2e-inventory-');
    defer(dataDir.remove);
    lab = await createTestLab();
    defer(() => lab.destroy());
    host = await lab.addSshHost({ login: 'root-key' });
    tarpit = await lab.addTarpitHost();
    const session = await openWebModeSession({
      dataDir: dataDir.path,
      env: { SUTAZAI_PASSPHRASE: PASSPHRASE },
      problems,
      context: { acceptDownloads: true },
    });
    defer(session.close);
    ({ page, url } = session);
  });

  it('checks the add-host form against the contract before sending anything', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await row(page, 'local').waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    const dialog = page.getByTestId('add-host-dialog');
    await dialog.waitFor({ state: 'visible' });
    // The name field has the focus, and the port starts at 22.
    await expect(page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).resolves.toBe('name');
    await expect(dialog.locator('input[name="port"]').inputValue()).resolves.toBe('22');

    await dialog.locator('input[name="name"]').fill('bad name!');
    await dialog.locator('input[name="port"]').fill('70000');
    await dialog.getByRole('button', { name: 'Check host' }).click();
    const errors = dialog.getByTestId('field-error');
    await errors.first().waitFor({ state: 'visible' });
    const texts = await errors.allTextContents();
    expect(texts).toContain('A port is 1 to 65535.');
    expect(texts).toContain('Required.'); // address, user
    expect(texts.some((t) => t.startsWith('Use letters, digits'))).toBe(true);
    expect(texts.some((t) => t.startsWith('Required: paste the private key'))).toBe(true);
    await shoot(page, 'add-host-validation');

    // Escape closes the dialog; nothing was added.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('host-row').count()).resolves.toBe(1);
  });

  it('says why an address cannot be reached and stores nothing', async () => {
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    const dialog = page.getByTestId('add-host-dialog');
    await fillKeyHost(dialog, 'ghost', { ...host, address: lab.unreachableAddress(), port: 22 });
    await dialog.getByRole('button', { name: 'Check host' }).click();
    const refusal = dialog.getByRole('alert');
    await refusal.waitFor({ state: 'visible', timeout: PROBE_TIMEOUT_MS });
    await expect(refusal.locator('.notice-code').textContent()).resolves.toBe('HOST_UNREACHABLE');
    await expect(refusal.locator('.notice-title').textContent()).resolves.toBe('The host was not checked; nothing was stored');
    await expect(refusal.locator('.notice-message').textContent()).resolves.toContain(lab.unreachableAddress());
    await expect(refusal.locator('.notice-remedy').textContent()).resolves.not.toBe('');
    // The form stays as typed, to correct the address.
    await expect(dialog.locator('input[name="name"]').inputValue()).resolves.toBe('ghost');
    await shoot(page, 'add-host-unreachable');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.reload({ waitUntil: 'load' });
    await row(page, 'local').waitFor({ state: 'visible' });
    await expect(page.getByTestId('host-row').count()).resolves.toBe(1);
  });

  it('takes the private key itself in web mode (never a path on the backend), and refuses a bad key at its field', async () => {
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    const dialog = page.getByTestId('add-host-dialog');
    await fillKeyHost(dialog, 'bad-key', host);
    // The browser is elsewhere: no field names a file on the backend's machine.
    await expect(dialog.locator('input[name="keyPath"]').count()).resolves.toBe(0);
    await expect(dialog.getByRole('radio', { name: 'Key file on this machine' }).count()).resolves.toBe(0);
    const keyField = dialog.locator('.field').filter({ has: page.locator('textarea[name="privateKey"]') });
    await expect(keyField.locator('.field-hint').textContent()).resolves.toMatch(/^OpenSSH private key, \d+ lines/);

    // "Read from a file…" reads a file on this computer into the field: here the .pub one, which the form names at once.
    await dialog.getByTestId('private-key-file').setInputFiles(`${host.privateKeyPath}.pub`);
    // The browser reads the file asynchronously: wait for the field to show it.
    await expect.poll(() => keyField.locator('.field-hint').textContent()).toMatch(/public key/);
    await dialog.getByRole('button', { name: 'Check host' }).click();
    const keyError = keyField.getByTestId('field-error');
    await keyError.waitFor({ state: 'visible' });
    await expect(keyError.textContent()).resolves.toMatch(/public key/);
    await expect(dialog.getByRole('alert').locator('.notice-code').textContent()).resolves.toBe('KEY_TEXT_INVALID');
    await shoot(page, 'add-host-public-key-refused');

    // The encrypted key with a wrong passphrase: refused at the passphrase.
    await dialog.getByTestId('private-key-file').setInputFiles(host.encryptedKeyPath);
    await expect.poll(() => keyField.locator('.field-hint').textContent()).toMatch(/private key, \d+ lines/);
    await dialog.locator('input[name="passphrase"]').fill('not the passphrase');
    await dialog.getByRole('button', { name: 'Check host' }).click();
    await expect(dialog.getByRole('alert').locator('.notice-code').textContent()).resolves.toBe('KEY_PASSPHRASE_WRONG');
    const passphraseField = dialog.locator('.field').filter({ has: page.locator('input[name="passphrase"]') });
    await passphraseField.getByTestId('field-error').waitFor({ state: 'visible' });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('host-row').count()).resolves.toBe(1);
  });

  it('adds a key-login host and shows the fingerprint its sshd really has, then stores and pins it on request', async () => {
    // Cancel at the key stores nothing.
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    let dialog = page.getByTestId('add-host-dialog');
    await fillKeyHost(dialog, HOST_NAME, host);
    await dialog.getByRole('button', { name: 'Check host' }).click();
    await dialog.getByTestId('host-key-fingerprint').waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect(page.getByTestId('host-row').count()).resolves.toBe(1);

    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    dialog = page.getByTestId('add-host-dialog');
    await fillKeyHost(dialog, HOST_NAME, host);
    await dialog.locator('select[name="role"]').selectOption('agent');
    await dialog.locator('input[name="labels"]').fill('lab, rack=b4');
    await shoot(page, 'add-host-form');
    await dialog.getByRole('button', { name: 'Check host' }).click();

    const fingerprint = dialog.getByTestId('host-key-fingerprint');
    await fingerprint.waitFor({ state: 'visible' });
    await expect(fingerprint.getAttribute('data-fingerprint')).resolves.toBe(host.hostKeyFingerprint);
    await expect(fingerprint.getAttribute('data-key-type')).resolves.toBe(host.hostKeyType);
    const text = (await fingerprint.textContent()) ?? '';
    expect(text).toContain(`${host.hostKeyType} ${host.hostKeyFingerprint}`);
    expect(text).toContain('(ED25519)');
    await expect(dialog.textContent()).resolves.toContain(`${HOST_NAME} (${host.address}:${host.port}) presents`);
    // Read, not stored: the inventory behind the dialog still has only this machine.
    await expect(page.getByTestId('host-row').count()).resolves.toBe(1);
    await shoot(page, 'add-host-fingerprint');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'add-host-fingerprint-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await dialog.getByRole('button', { name: 'Trust and add' }).click();
    await dialog.getByTestId('host-key-trusted').waitFor({ state: 'visible' });
    await shoot(page, 'add-host-added');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });

    const keyStatus = row(page, HOST_NAME).getByTestId('key-status');
    await keyStatus.waitFor({ state: 'visible' });
    await expect(keyStatus.getAttribute('data-trusted')).resolves.toBe('true');
    await expect(keyStatus.getAttribute('title')).resolves.toContain(host.hostKeyFingerprint);
    await expect(row(page, HOST_NAME).textContent()).resolves.toContain(`${host.user}@${host.address}:${host.port}`);
  });

  it('probes the SSH host and the local machine in parallel, following each host to done', async () => {
    await row(page, 'local').getByTestId('host-select').check();
    await row(page, HOST_NAME).getByTestId('host-select').check();
    await expect(page.getByTestId('selection-count').textContent()).resolves.toBe('2 selected');
    await shoot(page, 'hosts-selected');
    // Every state a row shows, in order, as the page renders it.
    const probeStates = await recordAttributeHistory(page, { testId: 'probe-row', key: 'data-host-name', attribute: 'data-state' });
    await page.getByRole('button', { name: 'Probe selected' }).click();
    await page.waitForURL(/#\/probes\/[A-Za-z0-9_-]+$/);
    await page.getByTestId('probe-job').waitFor({ state: 'visible' });
    await expect(page.getByTestId('probe-row').count()).resolves.toBe(2);

    await page.locator('[data-testid="probe-job"][data-finished="true"]').waitFor({ timeout: PROBE_TIMEOUT_MS });
    for (const name of ['local', HOST_NAME]) {
      const probeRow = page.locator(`[data-testid="probe-row"][data-host-name="${name}"]`);
      const state = await probeRow.getAttribute('data-state');
      expect(state, `${name}: ${(await probeRow.textContent()) ?? ''}`).toBe('done');
    }
    await expect(page.getByTestId('probe-progress-text').textContent()).resolves.toBe('2 of 2 finished');
    await expect(page.getByTestId('probe-progress').getAttribute('aria-valuenow')).resolves.toBe('2');
    const seen = await probeStates();
    const order = ['queued', 'connecting', 'probing', 'storing', 'done'];
    for (const name of ['local', HOST_NAME]) {
      const states = seen[name] ?? [];
      // The row only ever moves forward, and it was shown before it was done.
      expect(
        states.map((s) => order.indexOf(s)),
        `${name} went ${states.join(' → ')}`,
      ).toEqual([...states.map((s) => order.indexOf(s))].sort((a, b) => a - b));
      expect(states[states.length - 1]).toBe('done');
    }
    expect(seen[HOST_NAME]?.length, `lab-1 went ${seen[HOST_NAME]?.join(' → ')}`).toBeGreaterThanOrEqual(2);
    // Nothing left to cancel.
    await expect(page.getByRole('button', { name: 'Cancel' }).count()).resolves.toBe(0);
    await shoot(page, 'probe-job');

    // The hosts list leads back to it.
    await page.getByRole('link', { name: '← All hosts' }).click();
    const latest = page.getByTestId('latest-probe');
    await expect(latest.textContent()).resolves.toBe('Last bulk probe: 2 of 2 finished');
    await latest.click();
    await page.getByTestId('probe-job').waitFor({ state: 'visible' });

    // A reload forgets this window's own record of the job; the backend still knows it.
    await page.reload();
    await page.locator('[data-testid="probe-job"][data-finished="true"]').waitFor({ timeout: 10_000 });
    for (const name of ['local', HOST_NAME]) {
      await expect(page.locator(`[data-testid="probe-row"][data-host-name="${name}"]`).getAttribute('data-state')).resolves.toBe('done');
    }
  });

  it('shows the SSH host’s facts, threads as nproc counts them, with its connection and history', async () => {
    await page.locator(`[data-testid="probe-row"][data-host-name="${HOST_NAME}"] a`).click();
    await page.waitForURL(/#\/hosts\/\d+$/);
    const threads = page.getByTestId('cpu-threads');
    await threads.waitFor({ state: 'visible' });
    const nproc = await lab.exec(host, 'nproc');
    expect(nproc.code).toBe(0);
    expect((await threads.textContent())?.trim()).toBe(nproc.stdout.trim());

    const connection = page.getByTestId('connection-card');
    const connectionText = (await connection.textContent()) ?? '';
    expect(connectionText).toContain(`${host.address}:${host.port}`);
    // The pasted key is sealed: the card says so, and never shows it (nor a path: there is none).
    expect(connectionText).toContain('Private key (stored, sealed)');
    expect(connectionText).not.toContain('PRIVATE KEY');
    expect(connectionText).toContain('rack=b4');
    await expect(connection.getByTestId('pinned-key').textContent()).resolves.toContain(host.hostKeyFingerprint);
    // The probe's newer facts: who we are there, and what runs the machine.
    await expect(page.getByTestId('privilege').textContent()).resolves.toBe('Root');
    await expect(page.getByTestId('machine-id').textContent()).resolves.toMatch(/^[0-9a-f]{32}$|unknown/);
    await expect(page.getByTestId('facts-history-row').count()).resolves.toBe(1);
    await shoot(page, 'host-page-ssh');
    await shoot(page, 'host-page-ssh-full', { fullPage: true });
  });

  it('runs the agent preflight on the host and exports the result as a JSON file', async () => {
    const card = page.getByTestId('preflight-card');
    await card.getByTestId('profile-select').selectOption('agent');
    await card.getByRole('button', { name: 'Run preflight' }).click();
    const result = card.locator('[data-testid="preflight-result"][data-profile="agent"]');
    await result.waitFor({ state: 'visible' });
    const checks = result.getByTestId('preflight-check');
    expect(await checks.count()).toBeGreaterThanOrEqual(4);
    const ids = await checks.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-check-id')));
    expect(ids).toEqual(expect.arrayContaining(['cpu.threads', 'memory.total']));
    // Every check that did not pass says what to do.
    const outcomes = await checks.evaluateAll((rows) =>
      rows.map((r) => ({ outcome: r.getAttribute('data-outcome'), remedy: r.querySelector('td:last-child')?.textContent ?? '' })),
    );
    for (const { outcome, remedy } of outcomes) if (outcome !== 'pass') expect(remedy).not.toBe('—');
    await result.scrollIntoViewIfNeeded();
    await shoot(page, 'host-preflight');

    const [download] = await Promise.all([page.waitForEvent('download'), result.getByTestId('export-json').click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^preflight-agent-${HOST_NAME}-\\d{8}-\\d{6}\\.json$`));
    const saved = await download.path();
    const report = JSON.parse(await readFile(saved, 'utf8')) as { profile: string; hostName: string; checks: unknown[] };
    expect(report.profile).toBe('agent');
    expect(report.hostName).toBe(HOST_NAME);
    expect(report.checks.length).toBe(await checks.count());
  });

  it('refuses a changed host key, shows both fingerprints and when the old one was trusted, and re-trusts only on purpose', async () => {
    const oldFingerprint = host.hostKeyFingerprint;
    await lab.rotateHostKey(host);
    expect(host.hostKeyFingerprint).not.toBe(oldFingerprint);

    // The app will not log in to a machine whose key changed.
    await page.getByRole('button', { name: 'Probe again' }).click();
    const refusal = page.getByTestId('probe-failure');
    await refusal.waitFor({ state: 'visible', timeout: PROBE_TIMEOUT_MS });
    const refusalText = (await refusal.textContent()) ?? '';
    expect(refusalText).toContain('HOST_KEY_MISMATCH');
    expect(refusalText).toContain(HOST_NAME);
    await shoot(page, 'host-key-refused-probe');

    // The refusal leads to where it is solved.
    await refusal.getByRole('button', { name: 'Check host key' }).click();
    await refusal.waitFor({ state: 'detached' });
    const panel = page.getByTestId('host-key-changed');
    await panel.waitFor({ state: 'visible' });
    await expect(panel.getByTestId('host-key-old-fingerprint').getAttribute('data-fingerprint')).resolves.toBe(oldFingerprint);
    await expect(panel.getByTestId('host-key-new-fingerprint').getAttribute('data-fingerprint')).resolves.toBe(host.hostKeyFingerprint);
    const panelText = (await panel.textContent()) ?? '';
    expect(panelText).toContain(`The host key of ${HOST_NAME} has changed`);
    expect(panelText).toMatch(/Trusted on \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
    await panel.scrollIntoViewIfNeeded();
    await shoot(page, 'host-key-changed');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'host-key-changed-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Re-trusting needs the new fingerprint typed or pasted; the old one does not do.
    const retrust = panel.getByRole('button', { name: 'Re-trust new key' });
    await expect(retrust.isDisabled()).resolves.toBe(true);
    await panel.getByTestId('retrust-confirm').fill(oldFingerprint);
    await expect(retrust.isDisabled()).resolves.toBe(true);
    await panel.getByTestId('retrust-confirm').fill(`256 ${host.hostKeyFingerprint} root@${HOST_NAME} (ED25519)`);
    await expect(retrust.isDisabled()).resolves.toBe(false);
    await retrust.click();
    await page.getByTestId('host-key-trusted').waitFor({ state: 'visible' });
    await expect.poll(() => page.getByTestId('pinned-key').textContent(), { timeout: 5_000 }).toContain(host.hostKeyFingerprint);

    // With the new key pinned, the app logs in again.
    await page.getByRole('button', { name: 'Probe again' }).click();
    await expect
      .poll(() => page.getByRole('button', { name: /Probe again|Probing…/ }).textContent(), { timeout: PROBE_TIMEOUT_MS })
      .toBe('Probe again');
    await expect(page.getByTestId('probe-failure').count()).resolves.toBe(0);
    await expect.poll(() => page.getByTestId('facts-history-row').count(), { timeout: 5_000 }).toBe(2);
  });

  it('imports a YAML host list: the good rows are added, the bad one is named with its line and column, a key file refused', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await row(page, HOST_NAME).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Import…' }).click();
    const dialog = page.getByTestId('import-dialog');
    await dialog.waitFor({ state: 'visible' });
    // Web mode: the dialog says keys are not imported, and its example names no key file.
    await expect(dialog.textContent()).resolves.toContain('Passwords and keys cannot be imported');
    await expect(dialog.getByTestId('import-text').getAttribute('placeholder')).resolves.not.toContain('keyPath');
    const yaml = [
      'hosts:',
      '  - name: imported-1',
      `    address: ${lab.unreachableAddress()}`,
      '    user: root',
      '  - name: tarpit-1',
      `    address: ${tarpit.address}`,
      '  - name: "bad host!"',
      '    address: 10.0.0.9',
      // A browser names no file on the backend's machine: this row is refused, the others imported.
      '  - name: keyed-1',
      '    address: 10.0.0.10',
      `    keyPath: ${host.privateKeyPath}`,
      '',
    ].join('\n');
    const badLine = 7;
    const badColumn = (yaml.split('\n')[badLine - 1] ?? '').indexOf('"bad') + 1;
    // Through the file picker, as an operator would: the dialog reads it with FileReader.
    await dialog.getByTestId('import-file').setInputFiles({ name: 'lab-hosts.yaml', mimeType: 'text/yaml', buffer: Buffer.from(yaml) });
    await expect.poll(() => dialog.getByTestId('import-text').inputValue(), { timeout: 5_000 }).toBe(yaml);
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await dialog.getByTestId('import-result').waitFor({ state: 'visible' });

    await expect(dialog.locator('[data-testid="import-added"] li').allTextContents()).resolves.toEqual([
      expect.stringContaining('imported-1'),
      expect.stringContaining(`root@${tarpit.address}:22`),
    ]);
    const errors = dialog.getByTestId('import-error');
    await expect(errors.count()).resolves.toBe(2);
    const keyFileRow = (await errors.nth(1).textContent()) ?? '';
    expect(keyFileRow).toContain('keyed-1');
    expect(keyFileRow).toContain("names a file on the backend's machine");
    expect(keyFileRow).toContain('Paste key');
    const error = errors.first();
    await expect(error.getAttribute('data-row')).resolves.toBe('3');
    await expect(error.getAttribute('data-line')).resolves.toBe(String(badLine));
    await expect(error.getAttribute('data-column')).resolves.toBe(String(badColumn));
    const errorText = (await error.textContent()) ?? '';
    expect(errorText).toContain(`${badLine}:${badColumn}`);
    expect(errorText).toContain('lab-hosts.yaml');
    await shoot(page, 'import-dialog');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await dialog.waitFor({ state: 'detached' });
    await row(page, 'imported-1').waitFor({ state: 'visible' });
    await expect(row(page, 'imported-1').getByTestId('key-status').getAttribute('data-trusted')).resolves.toBe('false');
    await expect(row(page, 'keyed-1').count()).resolves.toBe(0);

    // tarpit-1 came in waiting for its key (a browser's list names no login): its key is pasted in its settings (sealed; never shown again).
    await row(page, 'tarpit-1').locator('a.host-name').click();
    const connection = page.getByTestId('connection-card');
    await connection.waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByTestId('edit-host-dialog');
    await edit.getByRole('radio', { name: 'Private key' }).check();
    await edit.locator('textarea[name="privateKey"]').fill(tarpit.privateKey.toString('utf8'));
    await shoot(page, 'edit-host-paste-key');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    await expect.poll(() => connection.textContent()).toContain('Private key (stored, sealed)');
    await expect(connection.textContent()).resolves.not.toContain('PRIVATE KEY');
    // Editing again: the key is not sent back; the field says one is stored.
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    await expect(edit.locator('textarea[name="privateKey"]').inputValue()).resolves.toBe('');
    await expect(edit.textContent()).resolves.toContain('A private key is stored (sealed)');
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: '← All hosts' }).click();
    await row(page, 'tarpit-1').waitFor({ state: 'visible' });
  });

  it('says why a host key cannot be read, edits a host with the add form, and refuses to remove a jump host in use', async () => {
    await row(page, 'imported-1').locator('a.host-name').click();
    await page.getByTestId('connection-card').waitFor({ state: 'visible' });

    // Nobody answers at that address: the error names what happened and what to do.
    await page.getByRole('button', { name: 'Check host key' }).click();
    const keyError = page.getByTestId('host-key-error');
    await keyError.waitFor({ state: 'visible', timeout: PROBE_TIMEOUT_MS });
    await expect(keyError.locator('.notice-remedy').textContent()).resolves.not.toBe('');
    await expect(keyError.getByRole('button', { name: 'Retry' }).count()).resolves.toBe(1);
    await shoot(page, 'host-key-unreachable');
    await keyError.getByRole('button', { name: 'Not now' }).click();

    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByTestId('edit-host-dialog');
    await edit.waitFor({ state: 'visible' });
    await expect(edit.locator('input[name="name"]').inputValue()).resolves.toBe('imported-1');
    await edit.locator('select[name="jumpHostId"]').selectOption({ label: `${HOST_NAME} (${host.address})` });
    await edit.locator('input[name="labels"]').fill('via-jump');
    await edit.getByRole('button', { name: 'Save' }).click();
    await edit.waitFor({ state: 'detached' });
    const connection = page.getByTestId('connection-card');
    await expect.poll(() => connection.textContent()).toContain('via-jump');
    await expect(connection.getByRole('link', { name: new RegExp(`^${HOST_NAME}`) }).count()).resolves.toBe(1);

    // lab-1 now carries imported-1's connections: it cannot go.
    await connection.getByRole('link', { name: new RegExp(`^${HOST_NAME}`) }).click();
    await expect.poll(() => page.locator('h1').textContent()).toContain(HOST_NAME);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    const remove = page.getByTestId('remove-host-dialog');
    await remove.getByRole('button', { name: 'Remove host' }).click();
    const refusal = remove.getByRole('alert');
    await refusal.waitFor({ state: 'visible' });
    const refusalText = (await refusal.textContent()) ?? '';
    expect(refusalText).toContain('HOST_IN_USE');
    expect(refusalText).toContain('imported-1');
    expect(refusalText).toContain('Point those hosts at another jump host');
    await shoot(page, 'remove-host-in-use');
    await remove.getByRole('button', { name: 'Cancel' }).click();
    await remove.waitFor({ state: 'detached' });

    // imported-1 itself goes, and the list no longer shows it.
    await page.goBack();
    await expect.poll(() => page.locator('h1').textContent()).toContain('imported-1');
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByTestId('remove-host-dialog').getByRole('button', { name: 'Remove host' }).click();
    await page.waitForURL(/#\/hosts$/);
    await row(page, HOST_NAME).waitFor({ state: 'visible' });
    // The list may first show what it held before the removal, then its refresh: wait for the row to go.
    await row(page, 'imported-1').waitFor({ state: 'detached' });
  });

  it('cancels a bulk probe stuck on a host that never answers', async () => {
    await row(page, 'tarpit-1').getByTestId('host-select').check();
    await row(page, HOST_NAME).getByTestId('host-select').check();
    await page.getByRole('button', { name: 'Probe selected' }).click();
    await page.waitForURL(/#\/probes\/[A-Za-z0-9_-]+$/);
    const stuck = page.locator('[data-testid="probe-row"][data-host-name="tarpit-1"]');
    await page.locator('[data-testid="probe-row"][data-host-name="tarpit-1"][data-state="connecting"]').waitFor();
    await page
      .locator(`[data-testid="probe-row"][data-host-name="${HOST_NAME}"][data-state="done"]`)
      .waitFor({ timeout: PROBE_TIMEOUT_MS });
    await expect(page.getByTestId('probe-progress-text').textContent()).resolves.toBe('1 of 2 finished');
    await shoot(page, 'probe-job-running');
    const cancelledAt = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('[data-testid="probe-job"][data-finished="true"]').waitFor({ timeout: 10_000 });
    // Well inside the 20 s the app allows one host: the cancel aborted the connection.
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    await expect(stuck.getAttribute('data-state')).resolves.toBe('cancelled');
    await expect(page.getByTestId('probe-progress-text').textContent()).resolves.toBe('2 of 2 finished');
    await shoot(page, 'probe-job-cancelled');
    await page.getByRole('link', { name: '← All hosts' }).click();
    await row(page, HOST_NAME).waitFor({ state: 'visible' });
    // Start the next step with nothing selected.
    for (const name of ['tarpit-1', HOST_NAME]) await row(page, name).getByTestId('host-select').uncheck();
  });

  it('shows the preflight of several hosts with the checks across them', async () => {
    await row(page, 'local').getByTestId('host-select').check();
    await row(page, HOST_NAME).getByTestId('host-select').check();
    await page.locator('.toolbar').getByTestId('profile-select').selectOption('agent');
    await page.getByRole('button', { name: 'Preflight selected' }).click();
    const report = page.getByTestId('preflight-report');
    await report.waitFor({ state: 'visible' });
    await expect(report.getByTestId('preflight-host').count()).resolves.toBe(2);
    const cross = report.getByTestId('preflight-cross-host');
    const crossIds = await cross.getByTestId('preflight-check').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-check-id')));
    expect(crossIds).toEqual(expect.arrayContaining(['unique.hostname', 'unique.address']));
    // The hosts list now shows each host's newest verdict.
    await expect(row(page, HOST_NAME).getByTestId('preflight-summary').count()).resolves.toBe(1);
    await shoot(page, 'hosts-page-inventory', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'hosts-page-inventory-dark', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('adds a password-login host whose sudo asks for a password, and never shows the secrets again', async () => {
    const pwHost = await lab.addSshHost({ login: 'sudo-password' });
    const password = pwHost.password ?? '';
    expect(password).not.toBe('');
    await gotoPage(page, url, { waitUntil: 'load' });
    await row(page, HOST_NAME).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Add host', exact: true }).click();
    const dialog = page.getByTestId('add-host-dialog');
    await dialog.locator('input[name="name"]').fill('lab-pw');
    await dialog.locator('input[name="address"]').fill(pwHost.address);
    await dialog.locator('input[name="user"]').fill(pwHost.user);
    await dialog.getByText('Password', { exact: true }).click();
    const passwordInput = dialog.locator('input[name="password"]');
    await expect(passwordInput.getAttribute('type')).resolves.toBe('password');
    await passwordInput.fill(password);
    await dialog.locator('input[name="sudoPassword"]').fill(password);
    await dialog.getByRole('button', { name: 'Check host' }).click();
    const fingerprint = dialog.getByTestId('host-key-fingerprint');
    await fingerprint.waitFor({ state: 'visible' });
    await expect(fingerprint.getAttribute('data-fingerprint')).resolves.toBe(pwHost.hostKeyFingerprint);
    await dialog.getByRole('button', { name: 'Trust and add' }).click();
    await dialog.getByRole('link', { name: 'Open lab-pw' }).click();
    await page.waitForURL(/#\/hosts\/\d+$/);

    await page.getByRole('button', { name: 'Probe again' }).click();
    await expect
      .poll(() => page.getByTestId('privilege').textContent(), { timeout: PROBE_TIMEOUT_MS })
      .toBe('sudo with a password (the stored one works)');
    await expect(page.getByTestId('connection-card').textContent()).resolves.toContain('Password (stored, sealed)');
    await page.getByRole('button', { name: 'Edit', exact: true }).click();
    const edit = page.getByTestId('edit-host-dialog');
    await expect(edit.locator('input[name="password"]').inputValue()).resolves.toBe('');
    await expect(edit.locator('input[name="sudoPassword"]').inputValue()).resolves.toBe('');
    expect(await page.content()).not.toContain(password);
    await shoot(page, 'edit-host-password');
    await page.keyboard.press('Escape');
    await edit.waitFor({ state: 'detached' });
  });

  it('logged no console error, page error or CSP violation', async () => {
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
