import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import * as scanner from '../../../scripts/lint/electronegativity.mjs';

interface Finding {
  check: string;
  file: string;
  line: number;
}
interface Entry {
  check: string;
  file: string;
  reason: string;
}
const { compareWithAllowlist, readAllowlist, scanShell } = scanner as {
  compareWithAllowlist(findings: Finding[], allowlist: Entry[]): { allowed: Finding[]; unlisted: Finding[]; stale: Entry[] };
  readAllowlist(file: string): Entry[];
  scanShell(root: string): Promise<{ findings: Finding[]; parseErrors: unknown[] }>;
};

const root = path.resolve(import.meta.dirname, '../../..');

describe('the Electronegativity allow-list', () => {
  const finding = (check: string, file: string): Finding => ({ check, file, line: 1 });
  const entry = (check: string, file: string): Entry => ({ check, file, reason: 'explained' });

  it('lets through only findings an entry names by check and file', () => {
    const findings = [finding('SANDBOX_JS_CHECK', 'electron/main/window.ts'), finding('SANDBOX_JS_CHECK', 'electron/main/other.ts')];
    const result = compareWithAllowlist(findings, [entry('SANDBOX_JS_CHECK', 'electron/main/window.ts')]);
    expect(result.allowed).toEqual([findings[0]]);
    expect(result.unlisted).toEqual([findings[1]]);
    expect(result.stale).toEqual([]);
  });

  it('calls an entry stale once nothing matches it', () => {
    const result = compareWithAllowlist([], [entry('AUXCLICK_JS_CHECK', 'electron/main/window.ts')]);
    expect(result.stale).toEqual([entry('AUXCLICK_JS_CHECK', 'electron/main/window.ts')]);
  });

  it('the checked-in list gives a reason for every entry', () => {
    const entries = readAllowlist(path.join(root, 'electronegativity-allowlist.json'));
    expect(entries.length).toBeGreaterThan(0);
    for (const item of entries) expect(item.reason.length, `${item.check} ${item.file}`).toBeGreaterThan(40);
  });

  it('refuses an entry without a reason', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sutazai-allowlist-'));
    try {
      const file = path.join(dir, 'list.json');
      writeFileSync(file, JSON.stringify([{ check: 'SANDBOX_JS_CHECK', file: 'electron/main/window.ts', reason: ' ' }]));
      expect(() => readAllowlist(file)).toThrow(/reason/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Electronegativity scan', () => {
  let fixture: string;
  beforeAll(() => {
    // A shell with the mistakes the scan exists to catch, next to the real CSP module.
    fixture = mkdtempSync(path.join(tmpdir(), 'sutazai-shell-fixture-'));
    mkdirSync(path.join(fixture, 'electron/main'), { recursive: true });
    mkdirSync(path.join(fixture, 'electron/shared-node'), { recursive: true });
    cpSync(path.join(root, 'package.json'), path.join(fixture, 'package.json'));
    cpSync(
      path.join(root, 'electron/shared-node/content-security-policy.ts'),
      path.join(fixture, 'electron/shared-node/content-security-policy.ts'),
    );
    writeFileSync(
      path.join(fixture, 'electron/main/main.ts'),
      [
        "import { BrowserWindow, shell } from 'electron';",
        'export function open(url: string) {',
        '  const win = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false } });',
        '  void shell.openExternal(url);',
        '  return win;',
        '}',
      ].join('\n'),
    );
  });
  afterAll(() => rmSync(fixture, { recursive: true, force: true }));

  it('finds insecure webPreferences and openExternal in the shell sources', async () => {
    const { findings, parseErrors } = await scanShell(fixture);
    expect(parseErrors).toEqual([]);
    const inMain = findings.filter((f) => f.file === 'electron/main/main.ts').map((f) => f.check);
    expect(inMain).toEqual(
      expect.arrayContaining(['NODE_INTEGRATION_JS_CHECK', 'CONTEXT_ISOLATION_JS_CHECK', 'SANDBOX_JS_CHECK', 'OPEN_EXTERNAL_JS_CHECK']),
    );
    // No navigation limits and no permission handler anywhere: the global checks say so.
    expect(findings.map((f) => f.check)).toEqual(
      expect.arrayContaining(['LIMIT_NAVIGATION_GLOBAL_CHECK', 'PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK']),
    );
  }, 30_000);
});
