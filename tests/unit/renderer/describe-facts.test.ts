import { describe, expect, it } from 'vitest';
import {
  clockSkewLevel,
  describeClockSkew,
  describeInitSystem,
  describePrivilege,
  describeVirtualization,
  formatUtcOffset,
} from '../../../renderer/src/hosts/describe-facts';
import { formatDuration } from '../../../renderer/src/format/time';

describe('fact wording', () => {
  it('names the virtualization and the init system', () => {
    expect(describeVirtualization({ kind: 'vm', name: 'kvm' })).toBe('VM (kvm)');
    expect(describeVirtualization({ kind: 'container', name: 'docker' })).toBe('Container (docker)');
    expect(describeVirtualization({ kind: 'none', name: '' })).toBe('None (bare metal)');
    expect(describeInitSystem({ kind: 'other', pid1: 'tini' })).toBe('Other (PID 1 is tini)');
  });

  it('says whether the stored sudo password works', () => {
    const base = { user: 'ops', uid: 1000 } as const;
    expect(describePrivilege({ ...base, level: 'sudo-password', sudoPasswordVerified: true })).toMatch(/stored one works/);
    expect(describePrivilege({ ...base, level: 'sudo-password', sudoPasswordVerified: false })).toMatch(/refused/);
    expect(describePrivilege({ ...base, level: 'sudo-password', sudoPasswordVerified: null })).toMatch(/none stored/);
    expect(describePrivilege({ ...base, level: 'none', sudoPasswordVerified: null })).toMatch(/no sudo/);
  });

  it('words the clock offset and skew', () => {
    expect(formatUtcOffset(60)).toBe('UTC+01:00');
    expect(formatUtcOffset(-330)).toBe('UTC−05:30');
    expect(formatUtcOffset(0)).toBe('UTC');
    expect(describeClockSkew(300)).toBe('in step with this machine');
    expect(describeClockSkew(12_345)).toBe('12.3 s ahead of this machine');
    expect(describeClockSkew(-180_000)).toBe('3 min behind this machine');
    expect([clockSkewLevel(2000), clockSkewLevel(-6000), clockSkewLevel(61_000)]).toEqual(['ok', 'warn', 'fail']);
  });

  it('formats probe durations', () => {
    expect(formatDuration(420)).toBe('0.4 s');
    expect(formatDuration(14_900)).toBe('14 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatDuration(-1)).toBe('—');
  });
});
