// The one way a script for a host is built: every value interpolated into `sh` is quoted for
// the place it stands in, proven by running what it builds in a real sh with hostile values
// (a marker file shows whether anything ran); a value where it cannot be quoted is refused
// when the script is built.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rawShell, sh, ShellScript } from '../../../electron/backend/install/remote/shell-script';
import { makeTempDir } from '../../support/temp-dir';

const tmp = makeTempDir('sutazai-shell-script-');
afterAll(() => tmp.remove());
const marker = path.join(tmp.path, 'ran');

const HOSTILE = [
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `'; touch ${marker}; echo '`,
  `"; touch ${marker}; echo "`,
  `\n touch ${marker}\n`,
  `a\tb\\c $HOME \${PATH} !x *`,
  `-n`,
  '',
];

function run(script: ShellScript): string {
  const result = spawnSync('sh', ['-c', script.text], { encoding: 'utf8' });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return result.stdout;
}

describe('sh`...`', () => {
  for (const value of HOSTILE) {
    it(`keeps ${JSON.stringify(value)} one inert word, and inert inside double quotes`, () => {
      expect(run(sh`printf '%s|' ${value}`)).toBe(`${value}|`);
      expect(run(sh`v=${value}; printf '%s|' "$v"`)).toBe(`${value}|`);
      expect(run(sh`printf '%s|' "before ${value} after"`)).toBe(`before ${value} after|`);
      // Command substitution drops trailing newlines, as sh does; nothing else changes.
      expect(run(sh`printf '%s|' "$(printf '%s' ${value})"`)).toBe(`${value.replace(/\n+$/, '')}|`);
      expect(run(sh`printf '%s|' ${[value, value]}`)).toBe(`${value}|${value}|`);
      expect(fs.existsSync(marker)).toBe(false);
    });
  }

  it('inserts a built script as script text, and a value inside it stays quoted', () => {
    const inner = sh`printf '%s|' ${`$(touch ${marker})`}`;
    expect(run(sh`${inner}; printf 'end'`)).toBe(`$(touch ${marker})|end`);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it('refuses a value where it cannot be quoted: single quotes, a comment, ${...}, backquotes', () => {
    expect(() => sh`echo '${'x'}'`).toThrow(/single quotes/);
    expect(() => sh`echo hi # ${'x'}\n`).toThrow(/comment/);
    expect(() => sh`echo \${x:-${'y'}}`).toThrow(/\$\{\.\.\.\}/);
    expect(() => sh`echo \`echo ${'y'}\``).toThrow(/backquotes/);
    expect(() => sh`echo "${sh`x`}"`).toThrow(/double quotes/);
  });

  it('refuses a template that ends inside quotes, and here-documents', () => {
    expect(() => sh`echo "${'x'}`).toThrow(/ends inside/);
    expect(() => rawShell(`echo 'open`)).toThrow(/ends inside/);
    expect(() => sh`cat <<EOF\n${'x'}\nEOF`).toThrow(/here-documents/);
  });

  it('is the only maker of a ShellScript', () => {
    expect(() => new (ShellScript as unknown as new (text: string, brand: symbol) => ShellScript)('id', Symbol('shell-script'))).toThrow();
  });
});
