import { describe, expect, it } from 'vitest';
import { roleRefusal } from '../../../electron/contract';
import { allowedFor } from '../../../renderer/src/operators/session-rules';

/** One note beside controls of several actions names every action the role may not take, and only those. */
describe('the reason beside controls of several actions', () => {
  it('names each refused action once, in the order given, and leaves out those the role may take', () => {
    expect(allowedFor('viewer', ['rollback', 'uninstall'])).toEqual({
      allowed: false,
      reason: 'You are a viewer, and a viewer may not roll installs back, nor uninstall.',
    });
    expect(allowedFor('operator', ['manage-hosts', 'probe'])).toEqual({
      allowed: false,
      reason: 'You are an operator, and an operator may not add, change or remove hosts.',
    });
    expect(allowedFor('viewer', ['manage-hosts', 'probe', 'trust-key'])).toEqual({
      allowed: false,
      reason:
        'You are a viewer, and a viewer may not add, change or remove hosts, nor probe hosts or run preflight checks, nor trust host or bundle keys.',
    });
    expect(allowedFor('operator', ['probe', 'control', 'logs'])).toEqual({ allowed: true, reason: null });
    expect(allowedFor('admin', ['upgrade', 'install', 'trust-key'])).toEqual({ allowed: true, reason: null });
    expect(allowedFor(null, ['install'])).toEqual({ allowed: true, reason: null });
  });

  it('says one action as before, whether given alone or in a list', () => {
    expect(roleRefusal('viewer', 'control')).toBe('a viewer, and a viewer may not start, stop or restart processes');
    expect(roleRefusal('viewer', ['control'])).toBe(roleRefusal('viewer', 'control'));
    expect(allowedFor('operator', ['install'])).toEqual(allowedFor('operator', 'install'));
  });
});
