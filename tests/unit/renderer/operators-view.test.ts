import { describe, expect, it } from 'vitest';
import { OperatorAttributesSchema } from '../../../electron/contract';
import { attributesFromFields, describeAttributes, NO_ATTRIBUTES } from '../../../renderer/src/operators/operator-attributes';
import { allowedFor, mustSignIn } from '../../../renderer/src/operators/session-rules';
import { hrefFor, parseRoute } from '../../../renderer/src/router/route';

describe('the Operators page and the sign-in gate', () => {
  it('has its own address', () => {
    expect(parseRoute('#/operators')).toEqual({ name: 'operators' });
    expect(parseRoute('#/operators/')).toEqual({ name: 'operators' });
    expect(parseRoute('#/operators/ada')).toEqual({ name: 'not-found', path: '/operators/ada' });
    expect(parseRoute(hrefFor({ name: 'operators' }))).toEqual({ name: 'operators' });
  });

  it('shows the sign-in screen only when operators exist and this window is no one yet', () => {
    expect(mustSignIn(undefined)).toBe(false);
    expect(mustSignIn({ operatorsExist: false, operator: null, role: 'admin' })).toBe(false);
    expect(mustSignIn({ operatorsExist: true, operator: null, role: null })).toBe(true);
    expect(mustSignIn({ operatorsExist: true, operator: { id: 1, name: 'ada', role: 'viewer', attributes: {} }, role: 'viewer' })).toBe(
      false,
    );
  });

  it('disables a control with the reason when the role may not take its action, as the backend decides', () => {
    expect(allowedFor('viewer', 'control')).toEqual({
      allowed: false,
      reason: 'You are a viewer, and a viewer may not start, stop or restart processes.',
    });
    expect(allowedFor('viewer', 'logs')).toEqual({ allowed: true, reason: null });
    expect(allowedFor('operator', 'control')).toEqual({ allowed: true, reason: null });
    expect(allowedFor('operator', 'manage-operators')).toEqual({
      allowed: false,
      reason: 'You are an operator, and an operator may not manage operators.',
    });
    expect(allowedFor('admin', 'manage-operators').allowed).toBe(true);
    // Not known yet (or no sign-in needed): usable; the backend still checks every call.
    expect(allowedFor(undefined, 'install').allowed).toBe(true);
  });

  it("turns the form's fields into the contract's attributes and back into one line", () => {
    expect(attributesFromFields(NO_ATTRIBUTES)).toEqual({});
    const attributes = attributesFromFields({
      team: ' night ',
      installs: 'lab, prod,',
      hostLabels: 'rack=b4',
      processes: '',
      hours: '22:00-06:00',
    });
    expect(attributes).toEqual({ team: 'night', installs: ['lab', 'prod'], hostLabels: ['rack=b4'], hours: '22:00-06:00' });
    expect(OperatorAttributesSchema.safeParse(attributes).success).toBe(true);
    expect(describeAttributes(attributes)).toBe('team night · installs lab, prod · hosts rack=b4 · hours 22:00-06:00');
    expect(describeAttributes({})).toBe('—');
    expect(OperatorAttributesSchema.safeParse({ hours: '25:00-26:00' }).success).toBe(false);
    expect(OperatorAttributesSchema.safeParse({ clearance: 'top' }).success).toBe(false);
  });
});
