import { describe, expect, it } from 'vitest';
import { parseHostList } from '../../../electron/backend/hosts/import-host-list';

describe('bulk import of a YAML host list', () => {
  it('reads a flat list with defaults, labels as a list or a map, and k0sctl roles', () => {
    const text = [
      'hosts:',
      '  - address: 198.18.0.10',
      '    name: core-1',
      '    role: controller',
      '    keyPath: ~/.ssh/id_ed25519',
      '    labels: [ssd]',
      '  - address: 198.18.0.11',
      '    user: ops',
      '    port: 2222',
      '    labels: { rack: b4, gpu: true }',
      '    jumpHost: core-1',
    ].join('\n');
    const { rows, errors } = parseHostList(text, 'hosts.yaml');
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      row: 1,
      line: 2,
      input: { name: 'core-1', user: 'root', role: 'core', auth: { method: 'key', keyPath: '~/.ssh/id_ed25519' }, labels: ['ssd'] },
    });
    expect(rows[1]).toMatchObject({
      row: 2,
      line: 7,
      jumpHostName: 'core-1',
      input: { name: '198.18.0.11', port: 2222, user: 'ops', auth: { method: 'agent' }, labels: ['rack=b4', 'gpu=true'] },
    });
  });

  it('reads k0sctl spec.hosts with ssh: nesting and a bastion', () => {
    const text = [
      'apiVersion: k0sctl.k0sproject.io/v1beta1',
      'spec:',
      '  hosts:',
      '    - role: worker',
      '      ssh:',
      '        address: 10.0.0.2',
      '        user: admin',
      '        keyPath: /keys/id',
      '        bastion:',
      '          address: bastion-1',
    ].join('\n');
    const { rows, errors } = parseHostList(text, 'k0sctl.yaml');
    expect(errors).toEqual([]);
    expect(rows[0]).toMatchObject({
      input: { address: '10.0.0.2', user: 'admin', role: 'agent', auth: { method: 'key', keyPath: '/keys/id' } },
      jumpHostName: 'bastion-1',
    });
  });

  it('reports each bad row with its line, column and field, and keeps the good rows', () => {
    const text = [
      'hosts:',
      '  - address: 198.18.0.10',
      '  - address: 198.18.0.11',
      '    port: 70000',
      '  - user: root',
      '  - address: ok.example',
      '    colour: red',
      '  - address: 198.18.0.12',
      '    auth: password',
    ].join('\n');
    const { rows, errors } = parseHostList(text, 'hosts.yaml');
    expect(rows.map((r) => r.row)).toEqual([1]);
    const byRow = new Map(errors.map((e) => [e.row, e]));
    expect(byRow.get(2)).toMatchObject({ line: 4, column: 11, field: 'port' });
    expect(byRow.get(2)?.message).toContain('hosts.yaml: host 2: port');
    expect(byRow.get(3)).toMatchObject({ field: 'address', line: 5 });
    expect(byRow.get(4)?.message).toContain('colour');
    expect(byRow.get(5)?.message).toContain('cannot carry passwords');
    for (const error of errors) expect(error.remedy.length).toBeGreaterThan(0);
  });

  it('refuses a file that is not valid YAML as a whole, naming line and column', () => {
    const { rows, errors } = parseHostList('hosts:\n  - address: [unclosed\n', 'bad.yaml');
    expect(rows).toEqual([]);
    expect(errors[0]).toMatchObject({ row: null, line: expect.any(Number), column: expect.any(Number) });
    expect(errors[0]!.message).toMatch(/^bad\.yaml:\d+:\d+: /);
  });

  it('says where the host list should be when there is none', () => {
    const { errors } = parseHostList('servers:\n  - 1\n', 'x.yaml');
    expect(errors[0]?.message).toContain('no host list');
  });
});
