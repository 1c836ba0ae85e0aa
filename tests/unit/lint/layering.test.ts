import { ESLint } from 'eslint';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

// Lints small snippets as if they sat at paths in each layer, through the repository's
// real eslint.config.js, and checks which imports the layering rules refuse.
const root = path.resolve(import.meta.dirname, '../../..');
const LAYER_RULES = new Set(['no-restricted-imports', 'sutazai/layer-boundaries']);

let eslint: ESLint;
beforeAll(async () => {
  eslint = new ESLint({ cwd: root, overrideConfigFile: path.join(root, 'eslint.config.js') });
  // The first lint loads the parser and every plugin: done here, so no single case carries it.
  await eslint.lintText('', { filePath: path.join(root, 'electron/backend/warm-up.ts') });
}, 120_000);

async function layerProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  if (result === undefined) throw new Error(`no lint result for ${file}`);
  expect(result.messages.filter((m) => m.fatal === true).map((m) => m.message)).toEqual([]);
  return result.messages.filter((m) => m.ruleId !== null && LAYER_RULES.has(m.ruleId)).map((m) => `${m.ruleId}: ${m.message}`);
}

interface Case {
  file: string;
  refused: string[];
  allowed: string[];
}

const cases: Record<string, Case> = {
  renderer: {
    file: 'renderer/src/views/HostsView.tsx',
    refused: [
      "import 'fs';",
      "import { join } from 'node:path';",
      "import { readFile } from 'fs/promises';",
      "import 'crypto';",
      "import 'child_process';",
      "import { ipcRenderer } from 'electron';",
      "import 'electron/renderer';",
      "import '../../../electron/backend/store/database';",
      "import type { Dispatcher } from '../../../electron/backend/server/dispatcher';",
      "import '../../../electron/main/window';",
      "import '../../../electron/preload/preload';",
      "export * from '../../../electron/backend/hosts/inventory';",
      "import '../../../agents-runtime/src/supervisor/machine';",
      "import { ROLES } from '../../../agents-runtime/src/wire';",
      "export async function load() { return import('node:os'); }",
      "export const cp = require('child_process');",
    ],
    allowed: [
      "import { createApiClient } from '../../../electron/contract/index';",
      "import '../../../electron/contract/client.js';",
      "import { useQuery } from '@tanstack/react-query';",
      "import 'recharts/es6/util/DataUtils';",
      "import '../components/Chart';",
      "export async function lazy() { return import('./SettingsView'); }",
    ],
  },
  'renderer entry (other depth)': {
    file: 'renderer/src/main.tsx',
    refused: ["import '../../electron/shared-node/static-path';", "import '../../electron/backend/store/database';", "import 'net';"],
    allowed: ["import '../../electron/contract';", "import './app';"],
  },
  backend: {
    file: 'electron/backend/store/database.ts',
    refused: [
      "import { app } from 'electron';",
      "import 'electron/main';",
      "import '../../main/window';",
      "import '../../preload/preload';",
      "import '../../../renderer/src/main';",
      "export async function f() { return import('electron'); }",
      "export const electron = require('electron');",
      "import electron = require('electron');",
      "import main = require('../../main/main');",
      // The runtime only through its public module, agents-runtime/src/wire.
      "import { ROLES } from '../../../agents-runtime/src/server/client-role';",
      "import type { ProcessStatus__Output } from '../../../agents-runtime/src/generated/sutazai/runtime/v1/ProcessStatus';",
      "import { readYaml } from '../../../agents-runtime/src/yaml/read-yaml';",
      "import { roleUri } from '../../../agents-runtime/src/wire/roles';",
      "export { RUNTIME_LAUNCH_ENV } from '../../../agents-runtime/src/daemon/launch-env';",
      "export async function f() { return import('../../../agents-runtime/src/server/grpc-status'); }",
      "export type Api = import('../../../agents-runtime/src/server/runtime-api').RuntimeApi;",
      "import '../../../agents-runtime/proto/runtime';",
    ],
    allowed: [
      "import Database from 'better-sqlite3';",
      "import { readFile } from 'node:fs/promises';",
      "import 'os';",
      "import '../../contract/index';",
      "import '../../shared-node/data-dir';",
      "import { ROLES, roleUri, type Role } from '../../../agents-runtime/src/wire';",
      "import type { ProcessStatus__Output } from '../../../agents-runtime/src/wire/index';",
      "export { runtimeErrorFromMetadata } from '../../../agents-runtime/src/wire/index.js';",
      "import { loadRuntimeProtos } from '../../../agents-runtime/src/wire/runtime-client-protos';",
    ],
  },
  'backend file in a sub-capability folder': {
    file: 'electron/backend/install/render/render-service.ts',
    refused: [
      "import { RUNTIME_LAUNCH_ENV } from '../../../../agents-runtime/src/daemon/launch-env';",
      "import { findProtoDir } from '../../../../agents-runtime/src/wire/find-proto-dir';",
    ],
    allowed: ["import { RUNTIME_LAUNCH_ENV } from '../../../../agents-runtime/src/wire';"],
  },
  'backend file named main': {
    // `./main` here is electron/backend/cli/main.ts, not the shell: resolved, not pattern-matched.
    file: 'electron/backend/cli/commands.ts',
    refused: ["import '../../main/main';"],
    allowed: ["import './main';", "import '../cli/main';"],
  },
  contract: {
    file: 'electron/contract/hosts.ts',
    refused: [
      "import 'node:fs';",
      "import 'fs';",
      "import 'path';",
      "import 'electron';",
      "import 'react';",
      "import 'lodash/merge';",
      "import '../backend/store/database';",
      "import '../main/window';",
      "import '../preload/preload';",
      "import '../../renderer/src/main';",
      "import { ROLES } from '../../agents-runtime/src/wire';",
      "import { sampleSeries } from '../../agents-runtime/src/wire/sample-series';",
      "export const merge = require('lodash/merge');",
      "export type Win = import('electron').BrowserWindow;",
    ],
    allowed: [
      "import { z } from 'zod';",
      "import 'zod/v4';",
      "import { ApiError } from './errors';",
      "export * from './metrics';",
      // The series names: a runtime file that imports nothing, written once for both ends.
      "import { HOST_SERIES } from '../../agents-runtime/src/wire/series-names';",
    ],
  },
  runtime: {
    file: 'agents-runtime/src/supervisor/machine.ts',
    refused: [
      "import 'electron';",
      "import '../../../electron/backend/store/database';",
      "import '../../../electron/contract/index';",
      "import '../../../electron/main/window';",
      "import '../../../renderer/src/main';",
    ],
    allowed: ["import 'node:child_process';", "import '@grpc/grpc-js';", "import '../../proto/runtime';", "import '../metrics/sampler';"],
  },
  'shell main': {
    file: 'electron/main/window.ts',
    refused: [
      "import '../backend/store/database';",
      "import '../backend/server/dispatcher';",
      // No backend file is the shell's any more: what both need lives in electron/shared-node.
      "import '../backend/server/static-path';",
      "import '../backend/app/data-dir';",
      "import '../../renderer/src/main';",
      "import '../../agents-runtime/src/index';",
    ],
    allowed: [
      "import { BrowserWindow } from 'electron';",
      "import path from 'node:path';",
      "import '../shared-node/static-path';",
      "import '../shared-node/content-security-policy.js';",
      "import '../contract/index';",
      "import '../preload/ipc-channels';",
      "import './security/navigation';",
    ],
  },
  'shared node': {
    file: 'electron/shared-node/data-dir.ts',
    refused: [
      "import { app } from 'electron';",
      "import '../backend/store/database';",
      "import '../main/window';",
      "import '../preload/preload';",
      "import '../contract/index';",
      "import '../../renderer/src/main';",
      "import '../../agents-runtime/src/wire';",
      "import Database from 'better-sqlite3';",
      "export const z = require('zod');",
    ],
    allowed: ["import fs from 'node:fs';", "import path from 'path';", "import { resolveStaticPath } from './static-path';"],
  },
  'shell preload': {
    file: 'electron/preload/preload.ts',
    refused: ["import '../backend/store/database';", "import '../../renderer/src/main';"],
    allowed: ["import { contextBridge, ipcRenderer } from 'electron';", "import './ipc-channels';"],
  },
  tests: {
    file: 'tests/unit/main/example.test.ts',
    refused: ["import { app } from 'electron';"],
    allowed: ["import type { BrowserWindow } from 'electron';", "import '../../../electron/backend/store/database';", "import 'node:fs';"],
  },
};

describe.each(Object.entries(cases))('layer %s', (_name, { file, refused, allowed }) => {
  it.each(refused)(`refuses %s in ${file}`, async (code) => {
    expect(await layerProblems(file, code)).toHaveLength(1);
  });

  it.each(allowed)(`allows %s in ${file}`, async (code) => {
    expect(await layerProblems(file, code)).toEqual([]);
  });
});

describe('layer messages', () => {
  it('say which rule was crossed', async () => {
    const [problem] = await layerProblems('renderer/src/App.tsx', "import '../../electron/backend/store/database';");
    expect(problem).toContain('renderer/ may import only electron/contract');
    const [bare] = await layerProblems('electron/contract/api.ts', "import 'node:crypto';");
    expect(bare).toContain('No Node builtins here');
  });

  it('leave scripts and config free to use Node and electron-builder', async () => {
    expect(await layerProblems('scripts/start.mjs', "import { spawn } from 'node:child_process';")).toEqual([]);
  });
});
