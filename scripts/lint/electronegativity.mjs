// Runs Electronegativity (Doyensec's Electron security scanner) over the shell sources
// and compares its findings with electronegativity-allowlist.json.
//
// How it is run, and why not the CLI: the CLI writes only CSV or SARIF, so the scan uses
// the same runner the CLI calls (`@doyensec/electronegativity`'s default export), which
// returns the findings as objects. The shell's TypeScript is parsed by the scanner itself
// (@babel/parser with the typescript plugin).
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Repository paths scanned; the staging folder mirrors them so findings name real files. */
export const SCANNED_PATHS = ['electron/main', 'electron/preload', 'package.json', 'renderer/index.html'];

/** The synthetic page that carries the CSP the app protocol sends (see stageCspPage). */
export const CSP_PAGE = 'app-protocol-csp.html';

/**
 * The scanner's "available security fixes" check downloads Electron's release list from
 * GitHub: lint must run offline and give the same answer every time, so it is skipped.
 * Electron upgrades are a dependency decision, not a lint result.
 */
export const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];

const require = createRequire(import.meta.url);

/**
 * At start-up the scanner fetches translations from S3 through `got`. Lint makes no network
 * connection, so before the scanner loads, its `got` is replaced by one that answers
 * "nothing new" (the bundled English texts are used) without opening a socket.
 */
function loadScannerOffline() {
  const scannerPath = require.resolve('@doyensec/electronegativity');
  const gotPath = createRequire(scannerPath).resolve('got');
  const offlineGot = Object.assign(new Module(gotPath), {
    filename: gotPath,
    loaded: true,
    exports: async () => ({ statusCode: 204, body: '', headers: {} }),
  });
  require.cache[gotPath] = offlineGot;
  const scanner = require(scannerPath);
  return scanner.default ?? scanner;
}

/**
 * The renderer's CSP is not in any HTML file: the app protocol sends it as a header on every
 * response (electron/shared-node/content-security-policy.ts). The scanner only reads CSPs
 * from <meta> tags or webRequest code, so the real policy is staged as a <meta> tag for its
 * evaluator, which then judges the policy the app actually sends.
 */
async function stageCspPage(root, stageDir) {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [path.join(root, 'electron/shared-node/content-security-policy.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.text ?? '';
  const { RENDERER_CSP } = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
  if (typeof RENDERER_CSP !== 'string' || RENDERER_CSP === '') throw new Error('could not read RENDERER_CSP');
  const escaped = RENDERER_CSP.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writeFileSync(
    path.join(stageDir, CSP_PAGE),
    `<!doctype html>\n<meta http-equiv="Content-Security-Policy" content="${escaped}">\n<title>CSP sent by the app protocol</title>\n`,
  );
}

/** Scans the shell and returns its findings as `{ check, file, line, column, severity, confidence, description }`. */
export async function scanShell(root) {
  const stageDir = mkdtempSync(path.join(tmpdir(), 'sutazai-electronegativity-'));
  try {
    for (const relative of SCANNED_PATHS) {
      const from = path.join(root, relative);
      if (existsSync(from)) cpSync(from, path.join(stageDir, relative), { recursive: true });
    }
    await stageCspPage(root, stageDir);
    const run = loadScannerOffline();
    const result = await run(
      {
        input: stageDir,
        customScan: [],
        excludeFromScan: EXCLUDED_CHECKS.map((check) => check.toLowerCase()),
        isRelative: true,
        isVerbose: true,
        parserPlugins: [],
      },
      false,
    );
    const findings = result.issues.map((issue) => ({
      check: issue.id,
      file: issue.file.split(path.sep).join('/'),
      line: issue.location?.line ?? 0,
      column: issue.location?.column ?? 0,
      severity: issue.severity?.name ?? String(issue.severity),
      confidence: issue.confidence?.name ?? String(issue.confidence),
      description: issue.description,
    }));
    const parseErrors = result.errors.map((error) => ({
      file: path.relative(stageDir, error.file).split(path.sep).join('/'),
      message: error.message,
      tolerable: error.tolerable,
    }));
    return { findings, parseErrors, checks: result.globalChecks + result.atomicChecks };
  } finally {
    rmSync(stageDir, { recursive: true, force: true });
  }
}

/** Reads and checks the shape of the allow-list. */
export function readAllowlist(file) {
  const entries = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(entries)) throw new Error(`${file}: expected an array of { check, file, reason }`);
  entries.forEach((entry, index) => {
    for (const key of ['check', 'file', 'reason']) {
      if (typeof entry?.[key] !== 'string' || entry[key].trim() === '') {
        throw new Error(`${file}: entry ${index} needs a non-empty "${key}"`);
      }
    }
  });
  return entries;
}

/**
 * Splits findings into those an allow-list entry explains and those it does not, and
 * names the entries that explain nothing any more (stale: the code changed, so the entry
 * must go before it hides a future finding).
 */
export function compareWithAllowlist(findings, allowlist) {
  const matches = (entry, finding) => entry.check === finding.check && entry.file === finding.file;
  return {
    allowed: findings.filter((finding) => allowlist.some((entry) => matches(entry, finding))),
    unlisted: findings.filter((finding) => !allowlist.some((entry) => matches(entry, finding))),
    stale: allowlist.filter((entry) => !findings.some((finding) => matches(entry, finding))),
  };
}

export function formatFinding(finding) {
  return `${finding.file}:${finding.line}:${finding.column}  ${finding.check} (${finding.severity}, ${finding.confidence})  ${finding.description}`;
}
