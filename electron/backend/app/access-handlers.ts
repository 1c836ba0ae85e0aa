import { roleAllows, roleRefusal, type AccessDecision } from '../../contract';
import type { AccessPolicy } from '../access/access-policy';
import type { PolicyGate } from '../access/policy-gate';
import type { MethodHandlers } from '../server/dispatcher';

export interface AccessApiDeps {
  accessPolicy: AccessPolicy;
  policyGate: PolicyGate;
}

/**
 * What the access checks would answer, asked before a control is offered (the app disables it
 * with the reason and the rule), and the policy as loaded. The same judges as with-access.ts:
 * the role, then the install's abac policy.
 */
export function createAccessHandlers({
  accessPolicy,
  policyGate,
}: AccessApiDeps): Pick<MethodHandlers, 'access.explain' | 'access.policy'> {
  return {
    'access.explain': ({ action, hostId, install, process }, caller): AccessDecision => {
      // Past with-access.ts a pipe without an operator is the bootstrap's admin.
      const role = caller.operator?.role ?? 'admin';
      if (!roleAllows(role, action)) return { allowed: false, by: 'role', reason: roleRefusal(role, action), rule: null };
      const decision = caller.operator ? policyGate.decide(caller.operator, action, { hostId, install, process }) : null;
      if (decision === null) return { allowed: true, by: 'role', reason: null, rule: null };
      return { allowed: decision.allowed, by: 'policy', reason: decision.allowed ? null : decision.reason, rule: decision.rule };
    },
    'access.policy': () => {
      const loaded = accessPolicy.current();
      return {
        rules: loaded.rules.map(({ spec, source }) => ({ name: spec.name, effect: spec.effect, source })),
        errors: [...loaded.errors],
        warnings: [...loaded.warnings],
      };
    },
  };
}
