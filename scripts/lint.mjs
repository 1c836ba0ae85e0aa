#!/usr/bin/env node
// `npm run lint`: ESLint over the repository (layering rules included, no warnings
// allowed), then Electronegativity over the Electron shell. Every Electronegativity
// finding must be explained in electronegativity-allowlist.json, and every entry there
// must still match a finding.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareWithAllowlist, formatFinding, readAllowlist, scanShell } from './lint/electronegativity.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const allowlistFile = path.join(root, 'electronegativity-allowlist.json');
let failed = false;

console.log('eslint . --max-warnings 0');
const eslint = spawnSync(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '.', '--max-warnings', '0'], {
  cwd: root,
  stdio: 'inherit',
});
if (eslint.status !== 0) {
  console.error(`eslint failed (exit ${eslint.status ?? eslint.signal})`);
  failed = true;
}

// One format for every source file (.prettierrc.json, 140 columns): reviews then show
// what changed, not how it was wrapped. `npm run format` rewrites; here it only checks.
console.log('\nprettier --check (npm run format rewrites)');
const prettier = spawnSync(
  process.execPath,
  [path.join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '--log-level', 'warn', '.'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (prettier.status !== 0) {
  console.error(`prettier found unformatted files (exit ${prettier.status ?? prettier.signal}). Remedy: npm run format`);
  failed = true;
}

console.log('\nelectronegativity: electron/main, electron/preload, renderer/index.html, the app protocol CSP');
const { findings, parseErrors, checks } = await scanShell(root);
const allowlist = readAllowlist(allowlistFile);
const { allowed, unlisted, stale } = compareWithAllowlist(findings, allowlist);

for (const error of parseErrors) {
  console.error(`${error.file}: electronegativity could not ${error.tolerable ? 'fully ' : ''}parse it: ${error.message}`);
  if (!error.tolerable) failed = true;
}
for (const finding of allowed) console.log(`  allowed  ${formatFinding(finding)}`);
for (const finding of unlisted) console.error(`  FINDING  ${formatFinding(finding)}`);
for (const entry of stale) console.error(`  STALE    allow-list entry ${entry.check} for ${entry.file} matches no finding; remove it`);
console.log(
  `${checks} checks, ${findings.length} finding(s): ${allowed.length} allowed, ${unlisted.length} not allowed, ${stale.length} stale allow-list entr(y/ies)`,
);
if (unlisted.length > 0) {
  console.error(`Fix each FINDING in the code, or explain in ${path.relative(root, allowlistFile)} why it is not a problem here.`);
  failed = true;
}
if (stale.length > 0) failed = true;

process.exit(failed ? 1 : 0);
