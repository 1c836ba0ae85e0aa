import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../../agents-runtime/src/access/parse-policy';
import { parseRuntimeConfig } from '../../../agents-runtime/src/daemon/runtime-config';
import { parseManifest } from '../../../agents-runtime/src/manifest/parse-manifest';

/**
 * The runtime's refusals of a manifest, a runtime config and a policy, word for word: the
 * wording operators and scripts have seen since these documents were checked with zod
 * (issue 13 replaced it with agents-runtime/src/schema/schema.ts), down to "(and N more)".
 */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
}

const oneProcess = 'version: 1\nprocesses:\n  - name: a\n';
const config = 'manifest: m.yaml\ntls: { ca: a, cert: b, key: c }\nstate_dir: s\nlog_dir: l\n';

describe('document refusals, word for word', () => {
  it.each([
    [
      `${oneProcess}    command: []\n`,
      'runtime.yaml:4:14: processes.0.command: Invalid input: expected string, received array (and 1 more)',
    ],
    [`${oneProcess}    command: x\n    env: { A: null, b-c: 1 }\n`, 'runtime.yaml:5:15: processes.0.env.A: Invalid input (and 1 more)'],
    [
      `${oneProcess}    command: x\n    health: { type: tcp, port: 80.5, interval_ms: .inf }\n`,
      'runtime.yaml:5:32: processes.0.health.port: Invalid input: expected int, received number (and 1 more)',
    ],
    [
      `${oneProcess}    command: x\n    backoff: { initial_ms: 1e20 }\n`,
      'runtime.yaml:5:28: processes.0.backoff.initial_ms: Too big: expected int to be <=9007199254740991 (and 1 more)',
    ],
    [
      `${oneProcess}    command: x\n    stop: { signal: 15, grace: 1 }\n`,
      'runtime.yaml:5:21: processes.0.stop.signal: Invalid input: expected string, received number (and 1 more)',
    ],
    [
      `${oneProcess}    command: x\n    health: { type: http, port: 80, path: healthz }\n`,
      'runtime.yaml:5:43: processes.0.health.path: must start with "/"',
    ],
    ['version: 1\nprocesses: []\n', 'runtime.yaml:2:12: processes: must list at least one process'],
    [
      `${oneProcess}    command: x\n    replicas: .nan\n`,
      'runtime.yaml:5:15: processes.0.replicas: Invalid input: expected number, received NaN',
    ],
  ])('manifest %j', (text, message) => {
    expect(refusal(() => parseManifest(text, 'runtime.yaml'))).toBe(message);
  });

  it.each([
    [
      `${config}logs: { timestamps: sometimes }\n`,
      'runtime.yaml:5:21: logs.timestamps: Invalid option: expected one of "auto"|"bash"|"node"|"collector"|"raw"',
    ],
    ['manifest: m.yaml\ntls: { ca: a, cert: b }\nstate_dir: s\nlog_dir: l\n', 'runtime.yaml:2:6: tls.key: is required (expected string)'],
    [`${config}audit: { max_file_bytes: 100 }\nlisten: nohost\n`, 'runtime.yaml:6:9: listen: must be host:port, e.g. 127.0.0.1:7600'],
    ['manifest: ""\n', 'runtime.yaml:1:11: manifest: must not be empty'],
  ])('runtime config %j', (text, message) => {
    expect(refusal(() => parseRuntimeConfig(text, 'runtime.yaml'))).toBe(message);
  });

  it.each([
    [
      `rules:\n  - name: r\n    effect: allow\n    resources: { installs: [${Array.from({ length: 257 }, () => 'x').join(', ')}] }\n`,
      'p.yaml:4:28: rule "r" (rules.0): resources.installs: Too big: expected array to have <=256 items.',
    ],
    [
      'rules:\n  - name: r\n    effect: allow\n    description: 5\n    hours: "08:00-18:00"\n',
      'p.yaml:4:18: rule "r" (rules.0): description: Invalid input: expected string, received number.',
    ],
    [
      'rules:\n  - name: r\n    effect: allow\n    hours: "08:00-18:00"\n    descripton: x\n',
      'p.yaml:5:5: rule "r" (rules.0): unknown key "descripton" (keys: name, effect, description, actions, operators, resources, hours, time_zone, enabled, source).',
    ],
    [
      'rules:\n  - name: r\n    effect: maybe\n    operators: { roles: [root], attributes: { tema: x } }\n',
      'p.yaml:4:47: rule "r" (rules.0): operators.attributes.tema: Unrecognized key: "tema".',
    ],
    [
      'rules:\n  - name: r\n    effect: allow\n    time_zone: Mars/Olympus\n    operators: { names: [] }\n',
      'p.yaml:5:25: rule "r" (rules.0): operators.names: expected at least one item; leave the key out to select everything.',
    ],
    [
      'target: { host_labels: 5, operator_time_zone: Mars/Base }\nrules: []\n',
      'p.yaml:1:24: target.host_labels: Invalid input: expected array, received number.',
    ],
  ])('policy %j', (text, message) => {
    expect(parsePolicy(text, 'p.yaml', { allowTarget: true }).errors.map((e) => e.message)).toEqual([message]);
  });
});
