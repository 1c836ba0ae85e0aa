// One lint for the whole repository. Besides the usual recommended rules it enforces the
// layers of DESIGN.md: where code runs decides what it may import, and a crossing fails
// `npm run lint` (tests/unit/lint/layering.test.ts pins each rule).
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import reactHooks from 'eslint-plugin-react-hooks';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';
import { LAYERS, layerBoundariesRule, restrictedImportPatterns } from './scripts/lint/layer-boundaries.mjs';
import { expectInCatchRule } from './scripts/lint/expect-in-catch.mjs';

const root = path.dirname(fileURLToPath(import.meta.url));

// Globals of the Node scripts (.js/.mjs/.cjs); TypeScript files get theirs from tsc.
const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'AbortController',
    'AbortSignal',
    'TextEncoder',
    'TextDecoder',
    'structuredClone',
    'queueMicrotask',
    'fetch',
    'Response',
    'Request',
    'Headers',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
  ].map((name) => [name, 'readonly']),
);
const commonJsGlobals = { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' };

const sourceFiles = (dir) => [`${dir}/**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}`];

export default defineConfig(
  { ignores: ['dist/', 'release/', 'node_modules/', 'artifacts/', 'coverage/', 'agents-runtime/src/generated/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['**/*.{js,mjs}'], languageOptions: { globals: nodeGlobals } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, ...commonJsGlobals } } },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
  },

  // Layering, part 1: bare specifiers of static imports (electron, Node builtins, packages).
  ...LAYERS.map((layer) => {
    const patterns = restrictedImportPatterns(layer, builtinModules);
    return {
      name: `sutazai/layers/${layer.name}/bare-imports`,
      files: layer.dirs.flatMap(sourceFiles),
      rules: { 'no-restricted-imports': patterns.length === 0 ? 'off' : ['error', { patterns }] },
    };
  }),
  // Tests run in plain Node, where importing electron runs node_modules/electron/index.js,
  // which tries to download the binary. Types are fine; test the pure modules instead.
  {
    name: 'sutazai/tests/no-electron-runtime',
    files: sourceFiles('tests'),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              allowTypeImports: true,
              message: 'Tests run without the Electron binary: import the pure modules (electron/main/security, ...) instead.',
            },
          ],
        },
      ],
    },
  },
  // Layering, part 2: relative paths resolved against the importing file, and the
  // dynamic forms (import(), require(), import x = require()) that part 1 cannot see.
  {
    name: 'sutazai/layers/paths',
    files: LAYERS.flatMap((layer) => layer.dirs.flatMap(sourceFiles)),
    plugins: { sutazai: { rules: { 'layer-boundaries': layerBoundariesRule } } },
    rules: { 'sutazai/layer-boundaries': ['error', { root }] },
  },
  // Chromium aborts a navigation still connecting with ERR_NETWORK_CHANGED whenever a test
  // host's interface comes or goes, which the integration files beside the e2e files do all
  // the time; gotoPage navigates again in that case only.
  {
    name: 'sutazai/tests/goto-page',
    files: sourceFiles('tests'),
    ignores: ['tests/support/chromium.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.type='MemberExpression'][callee.property.name='goto']",
          message: "Navigate with gotoPage(page, url, options) from tests/support/chromium: it survives Chromium's ERR_NETWORK_CHANGED.",
        },
      ],
    },
  },
  // The runtime daemon loads these built-ins where it first uses them, with
  // process.getBuiltinModule, not at start: a module once loaded stays for the process's life,
  // and a daemon nobody talks to needs none of them (issue 13's footprint; the bundled daemon's
  // loaded modules are pinned by tests/integration/runtime/daemon-deferred-modules.test.ts).
  {
    name: 'sutazai/runtime/deferred-builtins',
    files: ['agents-runtime/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: ['crypto', 'http', 'https', 'http2', 'tls', 'perf_hooks'].flatMap((name) =>
            [name, `node:${name}`].map((specifier) => ({
              name: specifier,
              allowTypeImports: true,
              message: `The daemon loads node:${name} when it first needs it: call process.getBuiltinModule('node:${name}') there (types may be imported).`,
            })),
          ),
        },
      ],
      'no-restricted-globals': [
        'error',
        {
          name: 'performance',
          message: "Reading it loads node:perf_hooks for the daemon's life: use monotonicMs() (agents-runtime/src/clock/monotonic-ms).",
        },
      ],
    },
  },
  // Tests must be able to fail: an expect inside a catch passes when nothing throws.
  {
    name: 'sutazai/tests/expect-in-catch',
    files: sourceFiles('tests'),
    plugins: { 'sutazai-tests': { rules: { 'expect-in-catch': expectInCatchRule } } },
    rules: { 'sutazai-tests/expect-in-catch': 'error' },
  },
);
