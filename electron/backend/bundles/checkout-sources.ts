import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { bundleBuildFailedError } from './bundle-errors';
import type { BundleSources } from './build-bundle';

/**
 * Where a bundle's parts come from when it is built from a SutazAI checkout: the runtime and
 * programs built by agents-runtime's own scripts, config/, the default process manifest
 * and the systemd unit. Bundles are built on a developer's or release machine, never by an
 * installed control center, so a checkout is required.
 */
export interface Checkout {
  root: string;
  /** package.json's version: what the runtime build stamps into sutazai-runtime.cjs. */
  version: string;
}

const RUNTIME_SCRIPT = 'agents-runtime/build-runtime.mjs';
const PROGRAMS_SCRIPT = 'agents-runtime/programs/build-programs.mjs';

export function findCheckout(): Checkout {
  const candidates = [
    path.resolve(__dirname, '../..'), // dist/backend/cli.cjs
    path.resolve(__dirname, '../../..'), // electron/backend/bundles (tests, tsx)
  ];
  for (const root of candidates) {
    if (fs.existsSync(path.join(root, RUNTIME_SCRIPT)) && fs.existsSync(path.join(root, 'package.json'))) {
      const { version } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
      return { root, version };
    }
  }
  throw bundleBuildFailedError(
    'no SutazAI checkout was found next to this program (agents-runtime/ and package.json)',
    'Build bundles from a checkout of the repository: npm run bundle, or npx sutazai bundle build there.',
  );
}

/** Everything but the runtime folder and the Node binaries, from the checkout. */
export function checkoutSources(checkout: Checkout, runtimeDir: string, nodeBinaries: BundleSources['nodeBinaries']): BundleSources {
  const unit = path.join(checkout.root, 'agents-runtime/systemd/sutazai-runtime.service');
  return {
    runtimeDir,
    configDir: path.join(checkout.root, 'config'),
    processManifest: path.join(checkout.root, 'agents-runtime/manifests/default.yaml'),
    ...(fs.existsSync(unit) ? { systemdUnit: unit } : {}),
    nodeBinaries,
  };
}

/**
 * Builds the runtime daemon and the reference programs into `outDir` with the checkout's
 * own scripts (the same as `npm run build:runtime`), one after the other: both write proto/.
 */
export async function buildRuntimeInto(checkout: Checkout, outDir: string, progress: (line: string) => void): Promise<void> {
  for (const [script, flag, what] of [
    [RUNTIME_SCRIPT, '--outdir', 'the runtime (sutazai-runtime.cjs, proto/)'],
    [PROGRAMS_SCRIPT, '--out', 'the reference programs (core.cjs, agent.cjs)'],
  ] as const) {
    progress(`building ${what}`);
    await runNodeScript(checkout.root, [path.join(checkout.root, script), flag, outDir], script);
  }
}

function runNodeScript(cwd: string, args: string[], script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) =>
      reject(bundleBuildFailedError(`${script} could not start (${error.message})`, 'Run it by hand to see why: node ' + script, error)),
    );
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else {
        reject(
          bundleBuildFailedError(
            `${script} failed (${signal ?? `exit ${code}`}): ${output.trim().split('\n').slice(-5).join(' | ') || 'no output'}`,
            `Fix the build error it reports (run \`node ${script}\` to see it whole), then build the bundle again.`,
          ),
        );
      }
    });
  });
}
