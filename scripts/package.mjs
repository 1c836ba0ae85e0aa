#!/usr/bin/env node
// `npm run package`: everything electron-builder.yml takes, then electron-builder itself.
//   dist/runtime/          the runtime and its .proto files (npm run build:runtime); the
//                          package ships sutazai-runtime.cjs and proto/ as resources/runtime,
//                          which the backend loads to talk to every runtime
//   dist/default-bundle/   the default release bundle (npm run bundle, from that same runtime),
//                          shipped as resources/bundles so an offline operator has one to install
//   dist/{main,preload,backend,renderer}/  the app itself, a production build
// The default bundle is signed with SUTAZAI_RELEASE_KEY (a key made by `npx sutazai bundle
// keygen FILE` and kept offline); without it, with the development key and bundle.mjs's
// warning. Either way the operator confirms the signer's fingerprint when importing it.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildAll } from './build.mjs';
import { root } from './ensure-deps.mjs';

/** Where the default release bundle is built; electron-builder.yml ships this folder's bundles. */
export const DEFAULT_BUNDLE_DIR = path.join('dist', 'default-bundle');
/** Where `npm run build:runtime` puts the runtime; electron-builder.yml ships part of it. */
export const RUNTIME_DIR = path.join('dist', 'runtime');

/** The commands before the app build, as [what, argv] with argv run by this Node. */
export function packageSteps({ version, releaseKey }) {
  const bundleOut = path.join(root, DEFAULT_BUNDLE_DIR, `sutazai-${version}.sutazai-bundle`);
  return [
    ['the runtime', [path.join(root, 'agents-runtime/build-runtime.mjs'), '--outdir', path.join(root, RUNTIME_DIR)]],
    ['the reference programs', [path.join(root, 'agents-runtime/programs/build-programs.mjs'), '--out', path.join(root, RUNTIME_DIR)]],
    [
      'the default release bundle',
      [
        path.join(root, 'scripts/bundle.mjs'),
        '--runtime-dir',
        path.join(root, RUNTIME_DIR),
        '--out',
        bundleOut,
        ...(releaseKey ? ['--key', path.resolve(releaseKey)] : []),
      ],
    ],
  ];
}

function run(what, argv) {
  console.log(`package: building ${what}`);
  const result = spawnSync(process.execPath, argv, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`package: building ${what} failed (exit ${result.status ?? result.signal}); see the output above.`);
    process.exit(result.status ?? 1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  // Only this version's bundle ships: an older one left in the folder would go along.
  rmSync(path.join(root, DEFAULT_BUNDLE_DIR), { recursive: true, force: true });
  for (const [what, argv] of packageSteps({ version, releaseKey: process.env.SUTAZAI_RELEASE_KEY })) run(what, argv);
  // After the bundle: bundle.mjs rebuilds the CLI as a development build when it is stale.
  await buildAll({ production: true });
  run('the packages (electron-builder)', [
    path.join(root, 'node_modules/electron-builder/cli.js'),
    '--config',
    'electron-builder.yml',
    '--publish',
    'never',
    ...process.argv.slice(2),
  ]);
}
