// A scale done through the runtime (fleet.scale) is kept in the install's recorded
// definition, carried over by the next apply's record, and rendered into the manifest,
// so that applying the install again keeps it rather than undoing it.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';
import { loadInstallConfig } from '../../../electron/backend/config/load-install-config';
import { parseInstallFile } from '../../../electron/backend/install/definition/install-file';
import {
  readRecordedDefinition,
  recordDefinition,
  recordScale,
  scaledReplicasOf,
} from '../../../electron/backend/install/definition/recorded-definition';
import { renderManifest } from '../../../electron/backend/install/render/render-manifest';
import type { InstallRow } from '../../../electron/backend/store/installs-repo';

const root = path.resolve(__dirname, '../../..');
const template = fs.readFileSync(path.join(root, 'agents-runtime/manifests/default.yaml'), 'utf8');
const file = parseInstallFile(
  ['name: lab', 'bundle: sutazai@0.1.0', 'hosts:', '  - name: core-1', '    role: both', '  - name: agents-1', '    role: agent'].join(
    '\n',
  ),
  '/srv/lab.yaml',
);

describe('a scale kept in the install definition', () => {
  it('is recorded for its host, survives the next apply’s record, and wins over the configuration in the manifest', () => {
    // The two calls recordScale makes of the installs' repository, over one row.
    const row = { id: 7, name: 'lab', definition: recordDefinition(file) } as InstallRow;
    const installs = {
      findByName: (name: string) => (name === row.name ? row : null),
      setDefinition: (id: number, definition: string) => {
        if (id === row.id) row.definition = definition;
      },
    };

    expect(recordScale(installs, 'lab', 'agents-1', 'agent', 5)).toBe(true);
    expect(recordScale(installs, 'lab', 'no-such-host', 'agent', 5)).toBe(false);
    expect(recordScale(installs, 'other', 'agents-1', 'agent', 5)).toBe(false);
    const recorded = installs.findByName('lab')!.definition;
    expect(scaledReplicasOf(recorded, 'agents-1')).toEqual({ agent: 5 });
    expect(scaledReplicasOf(recorded, 'core-1')).toEqual({});

    // The next apply records the file again: the scale stays with the host still in it.
    const again = recordDefinition(file, readRecordedDefinition(recorded));
    expect(scaledReplicasOf(again, 'agents-1')).toEqual({ agent: 5 });

    const config = loadInstallConfig({ install: [{ name: 'install.yaml', text: 'agents: { replicas_per_host: 2 }\n' }] }).config;
    const rendered = renderManifest({
      template,
      config,
      role: 'agent',
      gpu: false,
      runtimeDir: '/opt/sutazai/releases/0.1.0/runtime',
      remoteCore: '10.0.0.1:7700',
      scaledReplicas: scaledReplicasOf(again, 'agents-1'),
    });
    expect(rendered.processes).toEqual([{ name: 'agent', replicas: 5 }]);
    expect(parseManifest(rendered.text, 'manifest.yaml').processes.map((p) => [p.name, p.replicas])).toEqual([['agent', 5]]);
  });
});
