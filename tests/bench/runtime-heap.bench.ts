/**
 * The runtime daemon's heap after full garbage collections, builds side by side (issue 13,
 * footprint): each bundle named runs a daemon with 10 children (the same trivial program as
 * bench:runtime, metrics on), all at once, for BENCH_ROUNDS rounds; 20 s after its start each
 * daemon collects its garbage and reports its V8 heap and its PSS/USS (runtime-heap-probe.cjs,
 * preloaded). A change of a few hundred KB is lost in bench:runtime's PSS (the heap's young
 * generation and the pages V8 has not given back come and go by more); the heap in use
 * after collection shows it. Prints medians and each round's heap, with the load average.
 *
 *   node_modules/.bin/tsx tests/bench/runtime-heap.bench.ts OLD/sutazai-runtime.cjs NEW/sutazai-runtime.cjs
 *   (a bundle from `node agents-runtime/build-runtime.mjs --outdir DIR`; each runs with the shipped launchers' Node flags, RUNTIME_NODE_FLAGS, unless `BUNDLE::--flag...`
 *   names others or `BUNDLE::no-flags` none)
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_LAUNCH_ENV, RUNTIME_NODE_FLAGS } from '../../agents-runtime/src/wire/launch-env';
import { freePort } from '../support/free-ports';
import { makeRuntimeCerts, type RuntimeCerts } from '../support/runtime-certs';
import { loadLine } from './bench-load';
import { PROGRAM } from './runtime-bench-procs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PROBE = path.join(HERE, 'runtime-heap-probe.cjs');
const ROUNDS = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
const SETTLE_S = Number(process.env['BENCH_SETTLE_S'] ?? 20);
const CHILDREN = 10;

interface Probe {
  heapUsed: number;
  heapTotal: number;
  external: number;
  rss: number;
  pssKb: number;
  ussKb: number;
}

function writeConfig(root: string, certs: RuntimeCerts, listen: number, metrics: number): string {
  const tls = path.join(root, 'tls');
  fs.mkdirSync(tls, { recursive: true });
  fs.writeFileSync(path.join(tls, 'ca.pem'), certs.ca.certPem);
  fs.writeFileSync(path.join(tls, 'server.pem'), certs.server.certPem);
  fs.writeFileSync(path.join(tls, 'server.key'), certs.server.keyPem, { mode: 0o600 });
  const manifest = [
    'version: 1',
    'processes:',
    '  - name: bench',
    `    command: ${PROGRAM.command}`,
    `    args: ${JSON.stringify(PROGRAM.args)}`,
    `    replicas: ${CHILDREN}`,
    '    stop: { signal: SIGKILL, grace_ms: 0 }',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(root, 'manifest.yaml'), manifest);
  const config = path.join(root, 'runtime.yaml');
  fs.writeFileSync(
    config,
    [
      'manifest: manifest.yaml',
      `listen: 127.0.0.1:${listen}`,
      'tls: { ca: tls/ca.pem, cert: tls/server.pem, key: tls/server.key }',
      `state_dir: ${path.join(root, 'state')}`,
      `log_dir: ${path.join(root, 'logs')}`,
      `metrics: { listen: 127.0.0.1:${metrics} }`,
      '',
    ].join('\n'),
  );
  return config;
}

/** One daemon of `bundle` until its probe line; then SIGUSR2 (stops its programs first) and its exit. */
async function probeOnce(bundle: string, certs: RuntimeCerts): Promise<Probe> {
  const [file, ...options] = bundle.split('::') as [string, ...string[]];
  // Node's flags: the shipped launchers' unless flags are named (`BUNDLE::--flag`), none with `BUNDLE::no-flags`.
  const named = options.filter((o) => o.startsWith('--'));
  const nodeFlags = options.includes('no-flags') ? [] : named.length > 0 ? named : RUNTIME_NODE_FLAGS;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sutazai-heap-bench-'));
  try {
    const config = writeConfig(root, certs, await freePort(), await freePort());
    const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', '--require', PROBE, file, 'run', '--config', config], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...RUNTIME_LAUNCH_ENV, SUTAZAI_HEAP_PROBE_SETTLE_S: String(SETTLE_S) },
    });
    let stderr = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const line = await new Promise<string>((resolve, reject) => {
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString('utf8');
        const match = /^HEAP-PROBE (.*)$/m.exec(stderr);
        if (match !== null) resolve(match[1]!);
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`${file} exited (${code ?? signal}) before its probe: ${stderr.slice(-2000)}`)),
      );
    });
    child.kill('SIGUSR2');
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
    return JSON.parse(line) as Probe;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(2);

async function main(): Promise<void> {
  const bundles = process.argv.slice(2);
  if (bundles.length === 0)
    throw new Error('name one or more bundles: tsx tests/bench/runtime-heap.bench.ts A/sutazai-runtime.cjs B/sutazai-runtime.cjs');
  const cores = os.cpus().length;
  console.log(`Runtime daemon heap after GC, ${CHILDREN} children each, all at once, ${ROUNDS} rounds, probe ${SETTLE_S} s after start`);
  console.log(`  ${loadLine('start', cores)}`);
  const certs = makeRuntimeCerts();
  const probes = new Map<string, Probe[]>(bundles.map((b) => [b, []]));
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      const results = await Promise.all(bundles.map((bundle) => probeOnce(bundle, certs)));
      results.forEach((probe, i) => probes.get(bundles[i]!)!.push(probe));
    }
  } finally {
    certs.remove();
  }
  console.log('  medians (MB): heap used   heap total   external   PSS      USS      RSS      | heap used per round');
  for (const [bundle, list] of probes) {
    const cell = (key: keyof Probe, scale = 1): string => mb(median(list.map((p) => p[key] * scale))).padStart(9);
    console.log(
      `  ${bundle}\n                ${cell('heapUsed')}   ${cell('heapTotal')}  ${cell('external')}  ${cell('pssKb', 1024)} ${cell('ussKb', 1024)} ${cell('rss')}  | ${list.map((p) => mb(p.heapUsed)).join(', ')}`,
    );
  }
  console.log(`  ${loadLine('end', cores)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
