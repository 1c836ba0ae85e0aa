// The runtime bundle's built-ins shim (agents-runtime/builtins-once.mjs): the names each
// `node:` module is imported by, read from a first build, and a real build that fails when a
// name is imported that the shim does not export.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import * as shim from '../../../agents-runtime/builtins-once.mjs';
import { makeTempDir } from '../../support/temp-dir';

type Imports = Map<string, Set<string>>;
const { builtinImportsOf, builtinImportsOfOutput, builtinsOnce } = shim as {
  builtinImportsOf: (options: object) => Promise<Imports>;
  builtinImportsOfOutput: (text: string) => Imports;
  builtinsOnce: (imports: Imports) => object;
};
const plain = (imports: Imports) => Object.fromEntries([...imports].map(([k, v]) => [k, [...v].sort()]));

const tmp = makeTempDir('sutazai-builtins-once-');
afterAll(() => tmp.remove());

function entry(name: string, files: Record<string, string>): string {
  const dir = path.join(tmp.path, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return path.join(dir, 'main.ts');
}
const options = (entryPoint: string) => ({
  entryPoints: [entryPoint],
  bundle: true,
  platform: 'node' as const,
  format: 'cjs' as const,
  write: false,
  logLevel: 'silent' as const,
});

describe('builtinImportsOfOutput', () => {
  it("reads esbuild's import forms: default, named, renamed, both", () => {
    const text = [
      'import fs from "node:fs";',
      'import { spawn, spawnSync as run } from "node:child_process";',
      'import os, { constants as osConstants } from "node:os";',
      'import { default as path2 } from "node:path";',
      'import { parse } from "yaml";',
      'const s = `import nothing from "node:vm";`;',
    ].join('\n');
    expect(plain(builtinImportsOfOutput(text))).toEqual({
      'node:fs': [],
      'node:child_process': ['spawn', 'spawnSync'],
      'node:os': ['constants'],
      'node:path': [],
    });
  });

  it('refuses a namespace import (it would bind every export) and a line it cannot read', () => {
    expect(() => builtinImportsOfOutput('import * as net from "node:net";')).toThrow(/namespace import of node:net.*import its default/);
    expect(() => builtinImportsOfOutput('import { a } from "node:fs"')).toThrow(/cannot read the import line/);
  });
});

describe('builtinsOnce', () => {
  it('exports the names the code imports (after tree shaking), and the bundle runs', async () => {
    const main = entry('used', {
      'main.ts':
        "import { spawnSync } from 'node:child_process';\nimport fs from 'node:fs';\nimport { unused } from './unused';\nconsole.log(typeof spawnSync, typeof fs.readFileSync);\n",
      'unused.ts': "import { createHash } from 'node:crypto';\nexport const unused = () => createHash('sha1');\n",
    });
    const imports = await builtinImportsOf(options(main));
    expect(plain(imports)).toEqual({ 'node:child_process': ['spawnSync'], 'node:fs': [] });
    const result = await build({ ...options(main), plugins: [builtinsOnce(imports) as never] });
    const text = result.outputFiles![0]!.text;
    expect(text).toMatch(/\{\s*spawnSync\s*\}\s*=\s*m/);
    expect(text).not.toMatch(/execFileSync|webcrypto/);
    const out = path.join(path.dirname(main), 'out.cjs');
    fs.writeFileSync(out, text);
    const { execFileSync } = await import('node:child_process');
    expect(execFileSync(process.execPath, [out], { encoding: 'utf8' }).trim()).toBe('function function');
  });

  it('fails the build when a name is imported that the shim does not export (a list cannot go stale)', async () => {
    const main = entry('stale', { 'main.ts': "import { spawn } from 'node:child_process';\nconsole.log(typeof spawn);\n" });
    const stale: Imports = new Map([['node:child_process', new Set<string>()]]);
    await expect(build({ ...options(main), plugins: [builtinsOnce(stale) as never] })).rejects.toThrow(
      /No matching export in "node-builtin:node:child_process" for import "spawn"/,
    );
  });
});
