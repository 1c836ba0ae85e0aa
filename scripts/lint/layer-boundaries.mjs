// The layers of DESIGN.md ("The parts") as data, and an ESLint rule that enforces them on
// relative paths. `eslint.config.js` turns the bare-specifier half of each layer into
// `no-restricted-imports` patterns; this rule covers what a pattern cannot: a relative
// specifier names a different folder depending on where the importing file sits
// (`./main` is fine in electron/backend/cli, `../main` from electron/backend is the shell),
// so it is resolved against the file before it is judged. It also sees `import()`,
// `require()` and type-level `import('...')`, which `no-restricted-imports` does not.
import { isBuiltin } from 'node:module';
import path from 'node:path';

/**
 * The runtime's public module for its clients: its index, and its entries that load the gRPC
 * API (load-proto: the services; runtime-client-protos: grpc-js clients of them), kept out of
 * the index so that importing a word does not load gRPC. The files behind the index are the runtime's.
 */
const RUNTIME_WIRE = 'agents-runtime/src/wire';
const RUNTIME_WIRE_ENTRIES = [RUNTIME_WIRE, `${RUNTIME_WIRE}/load-proto`, `${RUNTIME_WIRE}/runtime-client-protos`];
/**
 * The metric series names (one vocabulary for the runtime and the control center): a file of
 * pure data that imports nothing, so the contract, which the renderer bundles, may import it
 * itself rather than keep a second copy of the names.
 */
const RUNTIME_SERIES_NAMES = `${RUNTIME_WIRE}/series-names`;
/** The visible-text rules: imports nothing, shared by the contract and the runtime's CLI. */
const RUNTIME_VISIBLE_TEXT = `${RUNTIME_WIRE}/visible-text`;
/**
 * Attribute-based access (issue 14): one policy reader and evaluator for the runtime and the
 * control center, imported through its index; its list of actions is pure data that the
 * contract's method-actions.ts reads, like the series names.
 */
const RUNTIME_ACCESS = 'agents-runtime/src/access';
const RUNTIME_ACTIONS = `${RUNTIME_ACCESS}/actions`;

/**
 * Each layer: the folders it owns, whether it may import electron / Node builtins / npm
 * packages, and which repository paths its relative imports may reach.
 * `reach(target)` gets a repository-relative path without extension.
 */
export const LAYERS = [
  {
    name: 'shell',
    dirs: ['electron/main', 'electron/preload'],
    electron: true,
    node: true,
    packages: 'any',
    reach: (target) =>
      within(target, 'electron/main') ||
      within(target, 'electron/preload') ||
      within(target, 'electron/contract') ||
      within(target, 'electron/shared-node'),
    rule: 'the shell (electron/main, electron/preload) may reach only itself, electron/contract and electron/shared-node',
  },
  {
    // What the shell and the backend both need and that is neither's to own: where the data
    // folder is, the renderer's security headers, how a request path maps to a file.
    name: 'shared-node',
    dirs: ['electron/shared-node'],
    electron: false,
    node: true,
    packages: [],
    reach: (target) => within(target, 'electron/shared-node'),
    rule: 'electron/shared-node is shared by the shell and the backend: Node builtins and its own files only, no electron, no packages, nothing of the shell, backend, contract or renderer',
  },
  {
    name: 'backend',
    dirs: ['electron/backend'],
    electron: false,
    node: true,
    packages: 'any',
    reach: (target) =>
      !within(target, 'renderer') &&
      !within(target, 'electron/main') &&
      !within(target, 'electron/preload') &&
      (!within(target, 'agents-runtime') || RUNTIME_WIRE_ENTRIES.includes(target) || target === RUNTIME_ACCESS),
    rule: `electron/backend is plain Node: nothing from electron, electron/main, electron/preload or renderer/, and of agents-runtime only its public module ${RUNTIME_WIRE} (and ${RUNTIME_WIRE}/load-proto, ${RUNTIME_WIRE}/runtime-client-protos) and the access policy module ${RUNTIME_ACCESS}`,
  },
  {
    name: 'contract',
    dirs: ['electron/contract'],
    electron: false,
    node: false,
    packages: ['zod'],
    reach: (target) =>
      within(target, 'electron/contract') ||
      target === RUNTIME_SERIES_NAMES ||
      target === RUNTIME_VISIBLE_TEXT ||
      target === RUNTIME_ACTIONS,
    rule: `electron/contract is shared with the renderer: only zod and its own files (and ${RUNTIME_SERIES_NAMES}, the series names, ${RUNTIME_VISIBLE_TEXT}, the visible-text rules, and ${RUNTIME_ACTIONS}, the actions), no Node, no electron, no backend, shell or renderer`,
  },
  {
    name: 'renderer',
    dirs: ['renderer'],
    electron: false,
    node: false,
    packages: 'any',
    reach: (target) => within(target, 'renderer') || within(target, 'electron/contract'),
    rule: 'renderer/ may import only electron/contract and npm packages: no Node, no electron, no backend, main or preload',
  },
  {
    name: 'runtime',
    dirs: ['agents-runtime'],
    electron: false,
    node: true,
    packages: 'any',
    reach: (target) => !within(target, 'electron') && !within(target, 'renderer'),
    rule: 'agents-runtime runs on managed machines: nothing from electron, electron/* or renderer/',
  },
];

function within(target, dir) {
  return target === dir || target.startsWith(`${dir}/`);
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

/** The layer a repository-relative path belongs to, or undefined (tests, scripts, config). */
export function layerOf(relativePath) {
  return LAYERS.find((layer) => layer.dirs.some((dir) => within(relativePath, dir)));
}

export function isElectronSpecifier(specifier) {
  return specifier === 'electron' || specifier.startsWith('electron/');
}

export function isNodeSpecifier(specifier) {
  return specifier.startsWith('node:') || isBuiltin(specifier);
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Why a bare specifier is refused in a layer, or null when it is allowed. */
export function bareSpecifierProblem(layer, specifier) {
  if (isElectronSpecifier(specifier)) return layer.electron ? null : `'${specifier}' is Electron`;
  if (isNodeSpecifier(specifier)) return layer.node ? null : `'${specifier}' is a Node builtin`;
  if (layer.packages === 'any' || layer.packages.includes(packageName(specifier))) return null;
  if (layer.packages.length === 0) return `'${specifier}' is a package, and this layer uses none`;
  return `'${specifier}' is not one of the packages this layer may use (${layer.packages.join(', ')})`;
}

/** Why a relative (or absolute) specifier is refused for a file, or null when it is allowed. */
export function pathSpecifierProblem(layer, root, filename, specifier) {
  const resolved = path.resolve(path.dirname(filename), specifier);
  const target = toPosix(path.relative(root, resolved))
    .replace(/\.(?:[cm]?[jt]sx?|json)$/, '')
    .replace(/\/index$/, '');
  if (target.startsWith('../') || path.isAbsolute(target)) return `'${specifier}' leaves the repository`;
  return layer.reach(target) ? null : `'${specifier}' reaches ${target}`;
}

function isPathSpecifier(specifier) {
  return specifier.startsWith('.') || specifier.startsWith('/') || path.isAbsolute(specifier);
}

function literalValue(node) {
  if (node?.type === 'Literal' && typeof node.value === 'string') return node.value;
  if (node?.type === 'TemplateLiteral' && node.expressions.length === 0) return node.quasis[0]?.value.cooked ?? null;
  if (node?.type === 'TSLiteralType') return literalValue(node.literal);
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layerBoundariesRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep every import inside the layers of DESIGN.md' },
    schema: [{ type: 'object', properties: { root: { type: 'string' } }, required: ['root'], additionalProperties: false }],
    messages: { crossing: '{{problem}}: {{rule}}.' },
  },
  create(context) {
    const root = context.options[0].root;
    const relativeFile = toPosix(path.relative(root, context.filename));
    const layer = layerOf(relativeFile);
    if (layer === undefined) return {};

    /** `bare`: whether bare specifiers are judged here too (no-restricted-imports sees only static ones). */
    const check = (node, sourceNode, bare) => {
      const specifier = literalValue(sourceNode);
      if (specifier === null) return;
      const problem = isPathSpecifier(specifier)
        ? pathSpecifierProblem(layer, root, context.filename, specifier)
        : bare
          ? bareSpecifierProblem(layer, specifier)
          : null;
      if (problem !== null) context.report({ node, messageId: 'crossing', data: { problem, rule: layer.rule } });
    };

    return {
      ImportDeclaration: (node) => check(node, node.source, false),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source, false),
      ExportAllDeclaration: (node) => check(node, node.source, false),
      ImportExpression: (node) => check(node, node.source, true),
      // no-restricted-imports already judges the bare specifier of `import x = require('...')`.
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' && check(node, node.moduleReference.expression, false),
      TSImportType: (node) => check(node, node.argument ?? node.source, true),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments.length === 1) {
          check(node, node.arguments[0], true);
        }
      },
    };
  },
};

function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The `no-restricted-imports` patterns for a layer's bare specifiers (static imports and
 * re-exports). Anchored regexes, so `recharts/es6/util` is not mistaken for Node's `util`.
 */
export function restrictedImportPatterns(layer, builtinModules) {
  const nodeNames = builtinModules.filter((name) => !name.includes('/') && !name.startsWith('_')).map(escapeRegex);
  const nodeSource = `node:|(?:${nodeNames.join('|')})(?:/|$)`;
  const patterns = [];
  if (!layer.electron) {
    patterns.push({ regex: '^electron(?:/|$)', message: `No electron here: ${layer.rule}.` });
  }
  if (!layer.node) {
    patterns.push({ regex: `^(?:${nodeSource})`, message: `No Node builtins here: ${layer.rule}.` });
  }
  if (layer.packages !== 'any') {
    const allowed = layer.packages.map(escapeRegex).join('|');
    // Every other bare specifier; paths, electron and Node are judged by the patterns above.
    patterns.push({
      regex: `^(?!\\.|/|electron(?:/|$)|${nodeSource}${allowed === '' ? '' : `|(?:${allowed})(?:/|$)`})`,
      message: `${allowed === '' ? 'No packages' : `Only ${layer.packages.join(', ')}`} here: ${layer.rule}.`,
    });
  }
  return patterns;
}
