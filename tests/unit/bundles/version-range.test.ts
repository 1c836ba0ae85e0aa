import { describe, expect, it } from 'vitest';
import { compareVersions, compatibleRange, parseRange, parseVersion, satisfies } from '../../../electron/backend/bundles/version-range';

const v = (text: string) => {
  const version = parseVersion(text);
  if (!version) throw new Error(`not a version: ${text}`);
  return version;
};
const inRange = (version: string, range: string) => satisfies(v(version), parseRange(range)!);

describe('semantic versions', () => {
  it('parses MAJOR.MINOR.PATCH with prerelease and build, and nothing looser', () => {
    expect(parseVersion('1.2.3')).toEqual({ major: 1, minor: 2, patch: 3, prerelease: [] });
    expect(parseVersion('0.1.0-rc.1+build.7')).toEqual({ major: 0, minor: 1, patch: 0, prerelease: ['rc', 1] });
    for (const bad of ['1.2', 'v1.2.3', '01.2.3', '1.2.3-', '1.2.3-01', '', 'x']) expect(parseVersion(bad)).toBeNull();
  });

  it('orders by semver precedence', () => {
    const sorted = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.1.0',
      '2.0.0',
    ];
    for (let i = 1; i < sorted.length; i += 1) expect(compareVersions(v(sorted[i - 1]!), v(sorted[i]!))).toBeLessThan(0);
    expect(compareVersions(v('1.0.0+a'), v('1.0.0+b'))).toBe(0);
  });
});

describe('version ranges', () => {
  it('holds when every comparator of one alternative holds', () => {
    expect(inRange('0.1.0', '>=0.1.0 <0.2.0')).toBe(true);
    expect(inRange('0.1.9', '>=0.1.0 <0.2.0')).toBe(true);
    expect(inRange('0.2.0', '>=0.1.0 <0.2.0')).toBe(false);
    expect(inRange('0.0.9', '>=0.1.0 <0.2.0')).toBe(false);
    expect(inRange('1.2.3', '1.2.3')).toBe(true);
    expect(inRange('1.2.4', '=1.2.3')).toBe(false);
    expect(inRange('3.0.0', '1.2.3 || >=2.0.0')).toBe(true);
    expect(inRange('1.5.0', '1.2.3 || >=2.0.0')).toBe(false);
    expect(inRange('0.0.0-dev', '*')).toBe(true);
    expect(inRange('0.2.0-rc.1', '>=0.1.0 <0.2.0')).toBe(true); // a prerelease of 0.2.0 ranks below it
    expect(inRange('1.0.0', '>1.0.0')).toBe(false);
    expect(inRange('1.0.0', '<=1.0.0')).toBe(true);
  });

  it('rejects what is not a range', () => {
    for (const bad of ['', '>=', '^1.2.3', '>= 1.2.3', '1.2', '||', '>=1.0.0 ||']) expect(parseRange(bad)).toBeNull();
  });

  it('derives the compatible range of a version the semver way (0.x: same minor)', () => {
    expect(compatibleRange(v('0.1.4'))).toBe('>=0.1.0 <0.2.0');
    expect(compatibleRange(v('2.3.1'))).toBe('>=2.0.0 <3.0.0');
    expect(inRange('0.1.4', compatibleRange(v('0.1.0')))).toBe(true);
  });
});
