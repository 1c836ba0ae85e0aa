import { describe, expect, it } from 'vitest';
import { parseInstallFile } from '../../../electron/backend/install/definition/install-file';
import {
  installFileOfRecord,
  readRecordedDefinition,
  recordDefinition,
} from '../../../electron/backend/install/definition/recorded-definition';

const file = parseInstallFile(
  [
    'name: lab',
    'bundle: sutazai@0.1.0',
    'environment: staging',
    'config:',
    '  - file: site.yaml',
    '  - values: { agents: { replicas_per_host: 2 } }',
    'hosts:',
    '  - name: core-1',
    '    role: both',
    '  - name: gpu-1',
    '    role: agent',
    '    gpu: true',
    '    config: { values: { runtime: { grpc_port: 7601 } } }',
  ].join('\n'),
  '/srv/install/lab.yaml',
);

describe('the definition an install was last applied with', () => {
  it('gives back the same hosts, roles and layers with the bundle an upgrade names', () => {
    const again = installFileOfRecord('lab', readRecordedDefinition(recordDefinition(file))!, { name: 'sutazai', version: '0.2.0' });
    expect(again).toMatchObject({ name: 'lab', bundle: { name: 'sutazai', version: '0.2.0' }, environment: 'staging' });
    expect(again.layers).toEqual(file.layers);
    expect(again.layers[0]).toEqual({ file: '/srv/install/site.yaml' });
    expect(again.hosts).toEqual(file.hosts);
  });

  it('reads as none when there is none, or it is not one', () => {
    expect(readRecordedDefinition(null)).toBeNull();
    expect(readRecordedDefinition('{not json')).toBeNull();
    expect(readRecordedDefinition(JSON.stringify({ format: 2, layers: [], hosts: [] }))).toBeNull();
  });
});
