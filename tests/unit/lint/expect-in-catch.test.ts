import { ESLint } from 'eslint';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// Lints snippets as test files through the repository's real eslint.config.js: an expect
// inside a catch is refused unless the test fails when nothing throws.
const root = path.resolve(import.meta.dirname, '../../..');
const RULE = 'sutazai-tests/expect-in-catch';

let eslint: ESLint;
beforeAll(async () => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js') });
  // The first lint loads the parser and every plugin (seconds on a loaded machine): done here.
  await eslint.lintText('', { filePath: path.join(root, 'tests/unit/warm-up.test.ts') });
}, 120_000);

async function refusals(code: string, file = 'tests/unit/example.test.ts'): Promise<number> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (result === undefined) throw new Error('no lint result');
  expect(result.messages.filter((m) => m.fatal === true).map((m) => m.message)).toEqual([]);
  return result.messages.filter((m) => m.ruleId === RULE).length;
}

const preamble = "import { expect, it } from 'vitest';\ndeclare function act(): void;\n";

describe('expect inside catch', () => {
  it('refuses the shapes that pass when nothing throws', async () => {
    expect(await refusals(`${preamble}it('x', () => { try { act(); } catch (e) { expect(e).toBeDefined(); } });`)).toBe(1);
    expect(await refusals(`${preamble}it('x', () => { try { act(); } catch (e) { expect((e as any).code).toBe('X'); return; } });`)).toBe(
      1,
    );
    expect(await refusals(`${preamble}function f() { try { act(); } catch (e) { expect(e).toBeDefined(); return e; } return null; }`)).toBe(
      1,
    );
    expect(
      await refusals(
        `${preamble}it('x', async () => { try { act(); } catch (e) { await expect(Promise.resolve(e)).resolves.toBeDefined(); } });`,
      ),
    ).toBe(1);
  });

  it('allows a catch that returns when the next statement fails the test, and catches without expect', async () => {
    expect(
      await refusals(
        `${preamble}function f() { try { act(); } catch (e) { expect(e).toBeDefined(); return e; } throw new Error('accepted'); }`,
      ),
    ).toBe(0);
    expect(
      await refusals(
        `${preamble}function f() { try { act(); } catch (e) { expect(e).toBeDefined(); return e; } expect.fail('accepted'); }`,
      ),
    ).toBe(0);
    expect(await refusals(`${preamble}function f() { try { act(); } catch (e) { if (e) throw e; } }`)).toBe(0);
    expect(await refusals(`${preamble}it('x', () => { expect(() => act()).toThrow(expect.objectContaining({ code: 'X' })); });`)).toBe(0);
  });

  it('applies to tests only', async () => {
    expect(
      await refusals(
        `export function f(expect: (v: unknown) => void) { try { JSON.parse('x'); } catch (e) { expect(e); } }`,
        'electron/backend/example.ts',
      ),
    ).toBe(0);
  });
});
