import { readdirSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { BuiltBundle } from '../../electron/backend/bundles/build-bundle';
import { dataOffsetOf, flipByte, makeBundleKit, type BundleKit } from '../support/bundle-kit';
import { cspViolations, gotoPage } from '../support/chromium';
import { shoot } from '../support/e2e-screenshots';
import { setUpSuite } from '../support/suite-set-up';
import { makeTempDir } from '../support/temp-dir';
import { openWebModeSession } from '../support/web-mode-session';

/**
 * The first and fifth steps of an install as an operator meets them today, in Debian's
 * Chromium against `npm run web`: import a signed release bundle chosen on the browser's
 * computer and uploaded (web mode names no path on the backend's machine), confirming its
 * signer's key as a host key's, see a tampered one refused, and write the install's configuration
 * with the backend checking it as it is typed: the System Integration Guide's sample,
 * broken as printed, repaired (then refused for the values this release does not act on),
 * with supported values, a key explained, two versions compared.
 */

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/config');

function configStatus(page: Page, state: 'valid' | 'invalid'): Locator {
  return page.locator(`[data-testid="config-status"][data-state="${state}"]`);
}

describe('bundles and configuration, end to end', () => {
  let kit: BundleKit;
  let bundle: BuiltBundle;
  let tampered = '';
  let printed = '';
  let repaired = '';
  /** The repaired sample with the values this release acts on (hybrid, jwt, a REST fallback and OpenTelemetry are refused). */
  let supported = '';
  let page: Page;
  let url = '';
  let dataDirPath = '';
  const problems: string[] = [];
  /** Uploads the backend still holds for browsers (none once an import used its upload). */
  const heldUploads = () =>
    readdirSync(path.join(dataDirPath, 'downloads'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && entry.name.endsWith('.sutazai-bundle'))
      .map((entry) => entry.name);

  setUpSuite(async (defer) => {
    printed = await readFile(path.join(fixtures, 'seed-system-integration.yaml'), 'utf8');
    repaired = await readFile(path.join(fixtures, 'seed-system-integration-repaired.yaml'), 'utf8');
    supported = repaired
      .replace('deployment_mode: hybrid', 'deployment_mode: local')
      .replace('authentication_method: jwt', 'authentication_method: mtls')
      .replace('fallback_protocol: rest', 'fallback_protocol: none')
      .replace('tracing: opentelemetry', 'tracing: none');
    kit = await makeBundleKit();
    defer(kit.remove);
    // The kit's compatibility range admits this checkout's version, which web mode reports.
    bundle = await kit.build('sutazai-release');
    tampered = path.join(kit.dir, 'tampered.sutazai-bundle');
    await copyFile(bundle.file, tampered);
    const { offset } = await dataOffsetOf(tampered, 'runtime/sutazai-runtime.cjs');
    flipByte(tampered, offset + 1000);

    const dataDir = makeTempDir('sutazai-e2e-install-inputs-');
    defer(dataDir.remove);
    dataDirPath = dataDir.path;
    const session = await openWebModeSession({ dataDir: dataDir.path, problems });
    defer(session.close);
    ({ page, url } = session);
  });

  it('imports a signed bundle: the unknown key is shown by its fingerprint, confirmed, and the bundle listed', async () => {
    await gotoPage(page, url, { waitUntil: 'load' });
    await page.getByRole('link', { name: 'Bundles', exact: true }).click();
    await page.waitForURL(/#\/bundles$/);
    await page.getByText('No bundle imported yet').waitFor({ state: 'visible' });

    // A browser names no path on the backend's machine: the bundle is chosen on this computer and uploaded.
    await expect(page.getByTestId('bundle-path').count()).resolves.toBe(0);
    await page.getByTestId('bundle-file').setInputFiles(bundle.file);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const unknown = page.getByTestId('bundle-key-unknown');
    await unknown.waitFor({ state: 'visible' });
    const fingerprint = unknown.getByTestId('bundle-key-fingerprint');
    await expect(fingerprint.getAttribute('data-fingerprint')).resolves.toBe(kit.key.fingerprint);
    await expect(fingerprint.textContent()).resolves.toContain(kit.key.fingerprint);
    await expect(unknown.textContent()).resolves.toContain('test release key');
    const facts = (await page.getByTestId('bundle-facts').textContent()) ?? '';
    expect(facts).toContain(`sutazai ${kit.checkoutVersion}`);
    expect(facts).toContain(bundle.sha256);
    expect(facts).toContain('linux-x64');
    // Nothing is stored before the operator decides.
    await expect(page.getByTestId('bundle-row').count()).resolves.toBe(0);
    await shoot(page, 'bundle-key-unknown');

    await unknown.getByRole('button', { name: 'Trust this key and import' }).click();
    const imported = page.getByTestId('bundle-imported');
    await imported.waitFor({ state: 'visible' });
    const importedText = (await imported.textContent()) ?? '';
    expect(importedText).toContain(`Imported sutazai ${kit.checkoutVersion}.`);
    expect(importedText).toContain('Its signing key is now trusted');

    const row = page.locator(`[data-testid="bundle-row"][data-version="${kit.checkoutVersion}"]`);
    await row.waitFor({ state: 'visible' });
    await expect(row.getAttribute('data-signer')).resolves.toBe(kit.key.fingerprint);
    await expect(page.getByTestId('bundle-row').count()).resolves.toBe(1);
    const key = page.locator(`[data-testid="trusted-bundle-key"][data-fingerprint="${kit.key.fingerprint}"]`);
    await key.waitFor({ state: 'visible' });
    const keyText = (await key.textContent()) ?? '';
    expect(keyText).toContain('test release key');
    expect(keyText).toContain('web');
    // The upload was moved into the data directory by its import: nothing is left among the uploads.
    expect(heldUploads()).toEqual([]);
    await shoot(page, 'bundles-page', { fullPage: true });
  });

  it('refuses a bundle with one flipped byte, showing the code, the file inside and the remedy, and stores nothing', async () => {
    await page.getByRole('button', { name: 'Import another' }).click();
    await page.getByTestId('bundle-file').setInputFiles(tampered);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const refusal = page.getByTestId('bundle-refusal');
    await refusal.waitFor({ state: 'visible' });
    await expect(refusal.getAttribute('data-code')).resolves.toBe('BUNDLE_CHECKSUM_MISMATCH');
    const text = (await refusal.textContent()) ?? '';
    expect(text).toContain('runtime/sutazai-runtime.cjs');
    expect(text).toContain('BUNDLE_CHECKSUM_MISMATCH');
    expect(text).toContain('Copy the bundle again from its source');
    await expect(page.getByTestId('bundle-verified').count()).resolves.toBe(0);
    await expect(page.getByTestId('bundle-row').count()).resolves.toBe(1);
    await shoot(page, 'bundle-refused');

    // Named as it was chosen, never by where the backend keeps the upload.
    expect(text).toContain('tampered.sutazai-bundle');
    expect(text).not.toContain(dataDirPath);

    // A file that is no bundle says so in its own words.
    await page.getByTestId('bundle-file').setInputFiles(path.join(fixtures, 'seed-system-integration.yaml'));
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await page.locator('[data-testid="bundle-refusal"][data-code="BUNDLE_CORRUPT"]').waitFor({ state: 'visible' });
  });

  it('checks the guide’s sample as it is typed: refused at line 4 with its column, once security: is restored at line 3 for a value without effect, valid with supported ones', async () => {
    await page.getByRole('link', { name: 'Configuration', exact: true }).click();
    await page.waitForURL(/#\/configuration$/);
    // An empty text is the shipped defaults under the production profile.
    await configStatus(page, 'valid').waitFor({ state: 'visible' });

    const editor = page.getByTestId('config-text');
    await editor.fill(printed);
    await configStatus(page, 'invalid').waitFor({ state: 'visible' });
    const problem = page.getByTestId('config-problem');
    await expect(problem.getAttribute('data-code')).resolves.toBe('CONFIG_YAML_INVALID');
    await expect(problem.getAttribute('data-file')).resolves.toBe('install.yaml');
    await expect(problem.getAttribute('data-line')).resolves.toBe('4');
    const column = Number(await problem.getAttribute('data-column'));
    // Inside line 4's text (or just past its end), as the backend's check found it.
    expect(column).toBeGreaterThanOrEqual(1);
    expect(column).toBeLessThanOrEqual(printed.split('\n')[3]!.length + 1);
    const problemText = (await problem.textContent()) ?? '';
    expect(problemText).toContain(`install.yaml, line 4, column ${column}`);
    expect(problemText).toContain('Line 6 is indented deeper than line 4');
    expect(problemText).toContain('give every indented block a `key:` line');
    // The line is marked in the editor itself.
    await page.getByTestId('config-error-band').waitFor({ state: 'visible' });
    await expect(page.locator('.code-gutter-error').textContent()).resolves.toBe('4');
    await expect(page.getByTestId('config-merged-card').count()).resolves.toBe(0);
    await shoot(page, 'config-seed-refused');

    // "Go to line 4" puts the cursor where the error points.
    await problem.getByRole('button', { name: 'Go to line 4' }).click();
    const caret = await editor.evaluate((element: HTMLTextAreaElement) => ({
      start: element.selectionStart,
      focused: document.activeElement === element,
    }));
    const lines = printed.split('\n');
    expect(caret).toEqual({
      start: lines[0]!.length + lines[1]!.length + lines[2]!.length + 3 + Math.min(column - 1, lines[3]!.length),
      focused: true,
    });

    // The repair, typed where it belongs: line 5 holds two spaces; `security:` completes it.
    const endOfLine5 = lines.slice(0, 4).join('\n').length + 1 + lines[4]!.length;
    await editor.evaluate((element: HTMLTextAreaElement, at: number) => element.setSelectionRange(at, at), endOfLine5);
    await page.keyboard.type('security:');
    await expect(editor.inputValue()).resolves.toBe(repaired);
    // Valid YAML now, and refused for what this release does not act on: the first such value, with its line.
    await configStatus(page, 'invalid').waitFor({ state: 'visible' });
    await page.locator('[data-testid="config-problem"][data-code="CONFIG_UNSUPPORTED"]').waitFor({ state: 'visible' });
    await expect(problem.getAttribute('data-line')).resolves.toBe('3');
    await expect(problem.textContent()).resolves.toContain('"hybrid" is not supported yet');
    await expect(problem.textContent()).resolves.toContain('Set system_integration.deployment_mode to local or on-premise');
    await shoot(page, 'config-seed-unsupported');

    // With the values this release acts on, the sample is valid.
    await editor.fill(supported);
    await configStatus(page, 'valid').waitFor({ state: 'visible' });
    await expect(page.getByTestId('config-problem').count()).resolves.toBe(0);
    await expect(page.getByTestId('config-error-band').count()).resolves.toBe(0);
    await expect(page.getByTestId('config-status').textContent()).resolves.toContain('production');
    const merged = page.getByTestId('config-merged-card');
    await merged.waitFor({ state: 'visible' });
    await expect(merged.textContent()).resolves.toContain('defaults → environment production → install');
    await expect(
      page.locator('[data-testid="config-value-row"][data-key="system_integration.deployment_mode"] td').last().textContent(),
    ).resolves.toBe('"local"');
    await shoot(page, 'config-seed-repaired');
  });

  it('explains a key: its merged value, the layer and place that set it, and what it overrode', async () => {
    await page.getByRole('button', { name: 'system_integration.security.authentication_method', exact: true }).click();
    const setting = page.locator('[data-testid="config-setting"][data-key="system_integration.security.authentication_method"]');
    await setting.waitFor({ state: 'visible' });
    await expect(setting.getAttribute('data-layer')).resolves.toBe('install');
    await expect(setting.getByTestId('config-setting-value').textContent()).resolves.toBe('"mtls"');
    await expect(setting.getByTestId('config-setting-origin').textContent()).resolves.toBe('Set by install install.yaml:6:28');
    const overridden = setting.getByTestId('config-overridden');
    await expect(overridden.count()).resolves.toBe(1);
    await expect(overridden.getAttribute('data-layer')).resolves.toBe('defaults');
    const overriddenText = (await overridden.textContent()) ?? '';
    expect(overriddenText).toContain('"mtls"');
    expect(overriddenText).toContain('config/defaults.yaml:');
    await setting.scrollIntoViewIfNeeded();
    await shoot(page, 'config-explain');

    // Another environment profile: its own value, and the layer that is its.
    await page.getByTestId('config-environment').selectOption('staging');
    await page.locator('[data-testid="config-status"][data-state="valid"]', { hasText: 'staging' }).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'install.releases_kept', exact: true }).click();
    const kept = page.locator('[data-testid="config-setting"][data-key="install.releases_kept"]');
    await kept.waitFor({ state: 'visible' });
    await expect(kept.getAttribute('data-layer')).resolves.toBe('environment staging');
    await expect(kept.getByTestId('config-setting-value').textContent()).resolves.toBe('2');
    await page.getByTestId('config-environment').selectOption('');
    await page.locator('[data-testid="config-status"][data-state="valid"]', { hasText: 'production' }).waitFor({ state: 'visible' });
  });

  it('compares the text with another version, key by key', async () => {
    const other = supported.replace('deployment_mode: local', 'deployment_mode: on-premise') + 'runtime:\n  grpc_port: 7601\n';
    await page.getByTestId('config-diff-text').fill(other);
    await page.locator('[data-testid="config-diff-result"][data-state="done"]').waitFor({ state: 'visible' });
    const changes = page.getByTestId('config-change');
    await expect(changes.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-path')))).resolves.toEqual([
      'runtime.grpc_port',
      'system_integration.deployment_mode',
    ]);
    const profile = page.locator('[data-testid="config-change"][data-path="system_integration.deployment_mode"]');
    await expect(profile.getAttribute('data-kind')).resolves.toBe('changed');
    await expect(profile.getByTestId('config-change-before').textContent()).resolves.toBe('"on-premise"');
    await expect(profile.getByTestId('config-change-after').textContent()).resolves.toBe('"local"');
    const port = page.locator('[data-testid="config-change"][data-path="runtime.grpc_port"]');
    await expect(port.getByTestId('config-change-before').textContent()).resolves.toBe('7601');
    await expect(port.getByTestId('config-change-after').textContent()).resolves.toBe('7600');
    await page.getByTestId('config-diff-card').scrollIntoViewIfNeeded();
    await shoot(page, 'config-diff');
    await shoot(page, 'configuration-page', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await shoot(page, 'configuration-page-dark', { fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('keeps the draft when the operator leaves the page and comes back', async () => {
    await page.getByRole('link', { name: 'Hosts', exact: true }).click();
    await page.waitForURL(/#\/hosts$/);
    await page.getByRole('link', { name: 'Configuration', exact: true }).click();
    await expect(page.getByTestId('config-text').inputValue()).resolves.toBe(supported);
    await configStatus(page, 'valid').waitFor({ state: 'visible' });
  });

  it('logged no console error, page error or CSP violation', async () => {
    expect(await cspViolations(page)).toEqual([]);
    expect(problems).toEqual([]);
  });
});
