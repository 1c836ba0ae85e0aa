import { describe, expect, it } from 'vitest';
import { diffManifests } from '../../../agents-runtime/src/manifest/manifest-diff';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';

const manifest = (body: string) => parseManifest(`version: 1\nprocesses:\n${body}`, 'manifest.yaml');

describe('what a new manifest does to each process', () => {
  const before = manifest(`  - { name: core, command: node, args: [core.js], env: { A: '1', B: '2' } }
  - { name: agent, command: node, replicas: 2, depends_on: [core] }
  - { name: old, command: sleep, args: ['9'] }
`);

  it('keeps a process whose settings are equal in value, whatever their order in the file', () => {
    const next = manifest(`  - { name: core, env: { B: '2', A: '1' }, args: [core.js], command: node }
  - { name: agent, command: node, replicas: 2, depends_on: [core] }
  - { name: old, command: sleep, args: ['9'] }
`);
    expect(diffManifests(before, next)).toEqual({ unchanged: ['core', 'agent', 'old'], scaled: [], changed: [], added: [], removed: [] });
  });

  it('restarts a process whose settings differ (naming them), scales one whose replica count alone differs, starts and removes', () => {
    const next = manifest(`  - { name: core, command: node, args: [core.js, --verbose], env: { A: '1', B: '3' } }
  - { name: agent, command: node, replicas: 4, depends_on: [core] }
  - { name: fresh, command: sleep, args: ['9'] }
`);
    expect(diffManifests(before, next)).toEqual({
      unchanged: [],
      scaled: [{ name: 'agent', from: 2, to: 4 }],
      changed: [{ name: 'core', fields: ['args', 'env'] }],
      added: ['fresh'],
      removed: ['old'],
    });
  });

  it('restarts a process whose settings and replica count both differ', () => {
    const next = manifest(`  - { name: core, command: node, args: [core.js], env: { A: '1', B: '2' } }
  - { name: agent, command: node, replicas: 3, depends_on: [] }
  - { name: old, command: sleep, args: ['9'] }
`);
    expect(diffManifests(before, next)).toMatchObject({ scaled: [], changed: [{ name: 'agent', fields: ['dependsOn'] }] });
  });
});
