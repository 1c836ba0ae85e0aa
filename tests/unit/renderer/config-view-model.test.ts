import { describe, expect, it } from 'vitest';
import { checkParams, EMPTY_DRAFT, restoreConfigDraft } from '../../../renderer/src/config/config-draft';
import { configLeaves } from '../../../renderer/src/config/config-leaves';
import { describeConfigOrigin, describeTextPlace } from '../../../renderer/src/config/describe-config-origin';
import { distinctName } from '../../../renderer/src/config/distinct-name';
import { formatConfigValue } from '../../../renderer/src/config/format-config-value';
import { lineCount, offsetOfPosition } from '../../../renderer/src/config/text-position';

describe('configLeaves', () => {
  it('lists every single value in the order of its keys, lists whole, with its section', () => {
    const leaves = configLeaves({
      environment: 'production',
      runtime: { grpc_port: 7600, logs: { keep_files: 4 } },
      agents: { capabilities: ['hash', 'sleep'], extra: {} },
    });
    expect(leaves).toEqual([
      { key: 'environment', section: 'environment', value: 'production' },
      { key: 'runtime.grpc_port', section: 'runtime', value: 7600 },
      { key: 'runtime.logs.keep_files', section: 'runtime', value: 4 },
      { key: 'agents.capabilities', section: 'agents', value: ['hash', 'sleep'] },
      { key: 'agents.extra', section: 'agents', value: {} },
    ]);
  });
});

describe('offsetOfPosition', () => {
  const text = 'a: 1\nbb: 2\n\nccc: 3';
  it('finds a line and column, 1-based', () => {
    expect(offsetOfPosition(text, 1, 1)).toBe(0);
    expect(offsetOfPosition(text, 2, 4)).toBe(8);
    expect(text[offsetOfPosition(text, 4, 1)]).toBe('c');
  });

  it('stays on the line when the column is past its end, and at the end past the last line', () => {
    expect(offsetOfPosition(text, 2, 99)).toBe(10); // the newline ending line 2
    expect(offsetOfPosition(text, 3, 5)).toBe(11); // the empty line
    expect(offsetOfPosition(text, 9, 1)).toBe(text.length);
  });

  it('counts the rows an editor shows', () => {
    expect(lineCount('')).toBe(1);
    expect(lineCount('a')).toBe(1);
    expect(lineCount('a\n')).toBe(2);
    expect(lineCount(text)).toBe(4);
  });
});

describe('config draft', () => {
  it('restores only what has the shape of a draft', () => {
    expect(restoreConfigDraft({ environment: 'staging', name: 'a.yaml', text: 'x: 1' })).toEqual({
      environment: 'staging',
      name: 'a.yaml',
      text: 'x: 1',
    });
    expect(restoreConfigDraft({ environment: null, name: 'a.yaml', text: '' })).toEqual({ environment: null, name: 'a.yaml', text: '' });
    expect(restoreConfigDraft({ environment: 'prod', name: 'a.yaml', text: '' })).toBeNull();
    expect(restoreConfigDraft({ environment: null, name: '', text: '' })).toBeNull();
    expect(restoreConfigDraft({ environment: null, name: 'a.yaml' })).toBeNull();
    expect(restoreConfigDraft('install.yaml')).toBeNull();
    expect(restoreConfigDraft(null)).toBeNull();
  });

  it('asks for the environment only when one was picked', () => {
    expect(checkParams(EMPTY_DRAFT)).toEqual({ install: [{ name: 'install.yaml', text: '' }] });
    expect(checkParams({ ...EMPTY_DRAFT, environment: 'development', text: 'a: 1' })).toEqual({
      environment: 'development',
      install: [{ name: 'install.yaml', text: 'a: 1' }],
    });
  });
});

describe('how origins and values read', () => {
  it('writes file:line:column as the CLI does, and a variable by its name', () => {
    expect(describeConfigOrigin({ layer: 'install', kind: 'install', file: 'install.yaml', line: 4, column: 24 })).toBe(
      'install.yaml:4:24',
    );
    expect(describeConfigOrigin({ layer: 'environment', kind: 'env', file: 'SUTAZAI_RUNTIME__GRPC_PORT', line: null, column: null })).toBe(
      'environment variable SUTAZAI_RUNTIME__GRPC_PORT',
    );
    expect(describeTextPlace({ line: 4, column: 24 })).toBe('line 4, column 24');
    expect(describeTextPlace({ line: 4, column: null })).toBe('line 4');
  });

  it('tells a number from a text that looks like one', () => {
    expect(formatConfigValue(7600)).toBe('7600');
    expect(formatConfigValue('7600')).toBe('"7600"');
    expect(formatConfigValue(['hash', 'sleep'])).toBe('["hash","sleep"]');
    expect(formatConfigValue(undefined)).toBe('(not set)');
  });

  it('renames a second text that would share the first one’s name', () => {
    expect(distinctName('install.yaml', 'install.yaml')).toBe('install (other).yaml');
    expect(distinctName('install', 'install')).toBe('install (other)');
    expect(distinctName('v1.yaml', 'install.yaml')).toBe('v1.yaml');
  });
});
