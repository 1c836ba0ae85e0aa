import { build } from 'esbuild';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');

/**
 * `npx sutazai` builds the CLI on first use (bin/sutazai.mjs → scripts/build.mjs) and shows
 * esbuild's warnings to the operator. The backend is bundled as CommonJS, where
 * `import.meta` is empty: code it pulls in (agents-runtime's load-proto.ts did) must not
 * rely on it. Built here as scripts/build.mjs builds it, into memory.
 */
describe('the backend bundles', () => {
  it.each([
    'electron/backend/cli/main.ts',
    'electron/backend/entry/web.ts',
    'electron/backend/entry/utility-process.ts',
    // The key worker thread's entry, built beside them (dist/backend/key-decrypt-worker.cjs).
    'electron/backend/hosts/ssh/key-decrypt-worker.ts',
  ])('%s builds without a warning', async (entry) => {
    const result = await build({
      entryPoints: [path.join(root, entry)],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      write: false,
      outfile: path.join(root, 'dist', 'unused.cjs'),
      logLevel: 'silent',
    });
    expect(result.warnings.map((w) => `${w.location?.file ?? ''}: ${w.text}`)).toEqual([]);
  });
});

/**
 * The YAML worker thread starts with every untrusted YAML parse and runs under memory limits:
 * what it pulls in from the runtime's wire module must not load gRPC (about 18 MB and a
 * second of start-up on a busy machine). Proto loading is wire/load-proto.ts, outside the
 * wire index, for this reason; a bundle keeps an unused package's require.
 */
describe('the YAML worker bundle', () => {
  it('loads no gRPC package', async () => {
    const result = await build({
      entryPoints: [path.join(root, 'electron/backend/untrusted-yaml/yaml-worker.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      packages: 'external',
      write: false,
      outfile: path.join(root, 'dist', 'unused.cjs'),
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text ?? '';
    expect(code).toContain('require("yaml")');
    expect(code.match(/require\("@grpc\/[^"]+"\)/g) ?? []).toEqual([]);
  });
});
