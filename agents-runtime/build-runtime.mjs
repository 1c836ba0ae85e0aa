// Builds the shippable runtime: one CommonJS file with every dependency inside (no
// node_modules on the target) and its gRPC API's descriptor built in, run by a plain Node 20
// binary, plus the API's .proto files next to it (for other clients: the control center's
// package loads them from there):
//   <outdir>/sutazai-runtime.cjs
//   <outdir>/proto/...
//   <outdir>/sutazai-log-collector-<arch>   the native log collector (see buildNativeCollectors)
// Usage: node agents-runtime/build-runtime.mjs [--outdir DIR]   (default dist/runtime)
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { builtinImportsOf, builtinsOnce } from './builtins-once.mjs';
import { buildNativeCollectors } from './native/build-native.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--outdir');
const outdir = path.resolve(at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : path.join(root, 'dist/runtime'));
const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;

fs.mkdirSync(outdir, { recursive: true });
/** One CommonJS file the daemon carries inside its bundle, as text: ASCII (one byte a character, also once decoded as latin1), minified. */
const carried = (entry) =>
  build({
    entryPoints: [path.join(root, entry)],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    write: false,
    charset: 'ascii',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
// The log collector (agents-runtime/src/logs/log-collector.ts) ships inside the daemon as
// source text that the daemon runs with `node -e`: one file to install, and the collector
// loads ~20 KB of code instead of the daemon's whole bundle (~20 MB less resident memory).
const collector = await carried('agents-runtime/src/logs/log-collector-main.ts');
// The yaml library, which the daemon needs only while it reads a YAML file: carried compressed,
// and loaded and let go on each read (agents-runtime/src/yaml/yaml-on-demand.ts says why).
const yamlLibrary = await carried('node_modules/yaml/dist/index.js');
const yamlLibrarySource = deflateRawSync(yamlLibrary.outputFiles[0].contents, { level: 9 }).toString('base64');
const runtimeOptions = {
  entryPoints: [path.join(root, 'agents-runtime/src/cli/sutazai-runtime.ts')],
  outfile: path.join(outdir, 'sutazai-runtime.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: [],
  sourcemap: false,
  legalComments: 'none',
  // Memory (bench:runtime's daemon RSS): V8 keeps the source of every loaded script, as a
  // two-byte string if a single character is not Latin-1. ASCII-only output keeps it one
  // byte per character, and minified whitespace and syntax keep it small. Identifiers are
  // kept so stack traces in the daemon's log still name functions.
  charset: 'ascii',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // The daemon's `yaml` is the on-demand loader of the compressed library above.
  alias: { yaml: path.join(root, 'agents-runtime/src/yaml/yaml-on-demand.ts') },
  banner: { js: '#!/usr/bin/env node\nconst __sutazaiImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: {
    'process.env.SUTAZAI_RUNTIME_BUNDLED': '"1"',
    __SUTAZAI_RUNTIME_VERSION__: JSON.stringify(version),
    __SUTAZAI_LOG_COLLECTOR_SOURCE__: JSON.stringify(collector.outputFiles[0].text),
    __SUTAZAI_YAML_LIBRARY__: JSON.stringify(yamlLibrarySource),
    'import.meta.url': '__sutazaiImportMetaUrl',
  },
};
// Each Node built-in bound once, by the names the bundle imports of it (builtins-once.mjs).
const result = await build({ ...runtimeOptions, metafile: true, plugins: [builtinsOnce(await builtinImportsOf(runtimeOptions))] });
fs.chmodSync(path.join(outdir, 'sutazai-runtime.cjs'), 0o755);

const protoOut = path.join(outdir, 'proto');
fs.rmSync(protoOut, { recursive: true, force: true });
fs.cpSync(path.join(root, 'agents-runtime/proto'), protoOut, { recursive: true });

const collectors = buildNativeCollectors(outdir);

const bytes = Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
console.log(
  `built ${path.relative(process.cwd(), outdir) || '.'}/sutazai-runtime.cjs (${(bytes / 1024).toFixed(0)} KiB), proto/ and ${collectors.join(', ') || 'no native log collector'} (runtime ${version})`,
);
