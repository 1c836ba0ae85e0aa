// The CLI given hostile or oversized YAML files: each is refused with CONFIG_YAML_INVALID
// and exit 2 (not INTERNAL and exit 1, not minutes of work), and an oversized file is
// refused before it is read whole.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasBomb, deepNesting, manyKeys } from '../../support/hostile-yaml';
import { runSutazai } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-hostile-yaml-cli-');

function sutazai(args: string[]) {
  return runSutazai(args, path.join(dir.path, 'data'));
}

function write(name: string, text: string): string {
  const file = path.join(dir.path, name);
  fs.writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  expect(sutazai(['help']).code).toBe(0);
});
afterAll(() => dir.remove());

describe('sutazai with hostile YAML', () => {
  it.each([
    ['an alias bomb', aliasBomb(), /aliases expand the text/],
    ['20,000 keys', manyKeys(), /more than 10000 keys and list items/],
    ['deep nesting', deepNesting(), /nested more than 32 deep/],
    ['a 6 MB file', `install:\n  note: "${'x'.repeat(6 * 1024 * 1024)}"\n`, /is over the limit of 1048576 bytes/],
  ])('config check refuses %s with CONFIG_YAML_INVALID and exit 2', (_label, text, why) => {
    const { code, stderr } = sutazai(['config', 'check', '--file', write('install.yaml', text)]);
    expect(stderr).toMatch(/CONFIG_YAML_INVALID/);
    expect(stderr).toMatch(why);
    expect(code).toBe(2);
  });

  it.each([
    ['an alias bomb', aliasBomb('hosts'), /aliases expand the text/],
    ['a 10 MB file', `hosts:\n${'  - address: 10.0.0.1\n'.repeat(500_000)}`, /is over the limit of 4194304 bytes/],
  ])('hosts import refuses %s with CONFIG_YAML_INVALID and exit 2, importing nothing', (_label, text, why) => {
    const { code, stderr } = sutazai(['hosts', 'import', write('hosts.yaml', text)]);
    expect(stderr).toMatch(/CONFIG_YAML_INVALID/);
    expect(stderr).toMatch(why);
    expect(code).toBe(2);
    expect(sutazai(['hosts', 'list', '--json']).stdout).not.toContain('10.0.0.1');
  });
});
