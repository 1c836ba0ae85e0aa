import { describe, expect, it } from 'vitest';
import type { ParsedLayer } from '../../../electron/backend/config/config-layer';
import { mergeLayers } from '../../../electron/backend/config/merge-layers';
import { parseYamlLayer } from '../../../electron/backend/config/yaml-layer';

const yaml = (file: string, text: string): ParsedLayer => parseYamlLayer(text, { layer: file, kind: 'install', file });

describe('mergeLayers', () => {
  it('merges maps key by key at any depth and replaces scalars and lists whole', () => {
    const merged = mergeLayers([
      yaml('low.yaml', 'a:\n  b:\n    c: 1\n    d: [x, y]\n  e: keep\n'),
      yaml('high.yaml', 'a:\n  b:\n    c: 2\n    d: [z]\n'),
    ]);
    expect(merged.value).toEqual({ a: { b: { c: 2, d: ['z'] }, e: 'keep' } });
  });

  it('keeps every value a key was given, lowest first, with its position', () => {
    const merged = mergeLayers([yaml('low.yaml', 'a:\n  c: 1\n'), yaml('high.yaml', '\na:\n    c: 2\n')]);
    expect(merged.settings.get('a.c')).toEqual([
      { value: 1, origin: { layer: 'low.yaml', kind: 'install', file: 'low.yaml', line: 2, column: 6 } },
      { value: 2, origin: { layer: 'high.yaml', kind: 'install', file: 'high.yaml', line: 3, column: 8 } },
    ]);
    expect(merged.maps.get('a')!.map((origin) => origin.file)).toEqual(['low.yaml', 'high.yaml']);
  });

  it('forgets what was inside a map that a value replaced', () => {
    const merged = mergeLayers([yaml('low.yaml', 'a:\n  c: 1\n'), yaml('high.yaml', 'a: flat\n')]);
    expect(merged.value).toEqual({ a: 'flat' });
    expect(merged.settings.has('a.c')).toBe(false);
    expect(merged.settings.get('a')!.map((setting) => setting.value)).toEqual(['flat']);
  });

  it('does not let a later change to the result alter a layer', () => {
    const low = yaml('low.yaml', 'a:\n  d: [x]\n');
    const merged = mergeLayers([low]);
    (merged.value.a as { d: string[] }).d.push('y');
    expect(low.value).toEqual({ a: { d: ['x'] } });
  });
});
