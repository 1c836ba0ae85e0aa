#!/usr/bin/env node
// `npm start`: the desktop quick start. Installs dependencies on a fresh checkout, makes
// sure the Electron binary is there (one download attempt), builds, and runs the app.
// Arguments after `--` go to the app, e.g. `npm start -- --data-dir /srv/sutazai`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = path.join(root, 'node_modules', 'electron');

const PLATFORM_EXECUTABLES = {
  darwin: 'Electron.app/Contents/MacOS/Electron',
  mas: 'Electron.app/Contents/MacOS/Electron',
  win32: 'electron.exe',
};

/**
 * Where the Electron executable is, or null when it is not installed. Follows the npm
 * package's own lookup (node_modules/electron/index.js) without its side effect: that
 * file starts a download when the binary is missing.
 */
export function findElectronBinary({ dir = electronDir, env = process.env, platform = process.platform } = {}) {
  const pathFile = path.join(dir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : '';
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const binary = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || (PLATFORM_EXECUTABLES[platform] ?? 'electron'));
    return existsSync(binary) ? binary : null;
  }
  if (relative === '') return null;
  const binary = path.join(dir, 'dist', relative);
  return existsSync(binary) ? binary : null;
}

/** What the operator reads when the binary cannot be had, with the ways forward. */
export function missingElectronMessage(version) {
  return [
    '',
    `The desktop app cannot start: the Electron ${version} binary is not installed, and downloading it failed`,
    '(this machine probably cannot reach the Electron download server; build machines here are offline).',
    '',
    'What you can do:',
    '  - Run `npm run web`: it serves the same control center UI to a browser on 127.0.0.1, no Electron needed.',
    '  - Or run `npm start` on a machine that can download Electron (or install a packaged build from `npm run package`).',
    `  - Or put electron-v${version}-<platform>-<arch>.zip into Electron's download cache`,
    '    (~/.cache/electron on Linux, or the folder in $electron_config_cache) and run `npm start` again,',
    '    or set ELECTRON_OVERRIDE_DIST_PATH to a folder holding an unpacked Electron of that version.',
    '',
  ].join('\n');
}

function electronVersion() {
  return JSON.parse(readFileSync(path.join(electronDir, 'package.json'), 'utf8')).version;
}

async function main() {
  const args = process.argv.slice(2);

  // ensure-deps.mjs needs nothing from node_modules, so it can run on a fresh checkout.
  const { ensureDependencies } = await import('./ensure-deps.mjs');
  ensureDependencies({ skipElectronDownload: false });

  let binary = findElectronBinary();
  if (binary === null) {
    console.log('The Electron binary is missing; trying to download it once (node node_modules/electron/install.js)...');
    const install = spawnSync(process.execPath, [path.join(electronDir, 'install.js')], { cwd: root, stdio: 'inherit' });
    binary = findElectronBinary();
    if (binary === null) {
      if (install.status === 0) console.error('install.js finished without installing a binary.');
      console.error(missingElectronMessage(electronVersion()));
      process.exit(1);
    }
  }

  if (process.platform === 'linux' && process.getuid?.() === 0) {
    console.error(
      'The desktop app does not run as root: Chromium refuses to start its sandbox for root, and the app never turns the sandbox off.\n' +
        'Run `npm start` as a normal user, or use `npm run web`.',
    );
    process.exit(1);
  }

  const { buildAll } = await import('./build.mjs');
  await buildAll();

  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would turn the app into a plain Node process
  const child = spawn(binary, [root, ...args], { cwd: root, stdio: 'inherit', env });
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('error', (error) => {
    console.error(`Could not start Electron (${binary}): ${error.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal === null ? 0 : 1));
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
