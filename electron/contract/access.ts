import { z } from 'zod';
import { ApiErrorBodySchema } from './errors';
import { HostIdSchema } from './hosts';
import { InstallNameSchema } from './installs';
import { FleetProcessNameSchema } from './fleet-processes';
import { ACTIONS } from './method-actions';

/**
 * Attribute-based access (issue 14, item 3): what the app asks before it offers a control on
 * a resource, so that a control the install's policy refuses is shown disabled with the rule
 * that refuses it, and the policy's own problems (rules that did not load, rules that select
 * nothing).
 */

export const AccessDecisionSchema = z.object({
  allowed: z.boolean(),
  /** `role`: the role alone decided (rbac, or a resource in no abac install); `policy`: the install's abac policy did. */
  by: z.enum(['role', 'policy']),
  /** Why it is refused, as the end of "refused: ..."; null when allowed. */
  reason: z.string().nullable(),
  /** The rule that decided (a deny that refused, an allow that allowed); null for the role, an attribute or nothing allowing it. */
  rule: z.object({ name: z.string(), source: z.string() }).nullable(),
});
export type AccessDecision = z.infer<typeof AccessDecisionSchema>;

/** A policy file or rule that did not load, or a rule that selects nothing, at its file:line:column. */
export const AccessPolicyFindingSchema = ApiErrorBodySchema.extend({
  file: z.string(),
  line: z.number().int().positive(),
  column: z.number().int().positive(),
});

export const accessMethods = {
  /**
   * Whether this pipe's operator may take `action` on a host (and a process on it) or an
   * install, and what decided: the role, or the install's abac policy with its rule.
   */
  'access.explain': {
    params: z
      .object({
        action: z.enum(ACTIONS),
        hostId: HostIdSchema.optional(),
        install: InstallNameSchema.optional(),
        process: FleetProcessNameSchema.optional(),
      })
      .strict(),
    result: AccessDecisionSchema,
  },
  /** The access policy as loaded from config/policies and the data directory's policies/: its rules, errors and warnings. */
  'access.policy': {
    params: z.object({}).strict(),
    result: z.object({
      rules: z.array(z.object({ name: z.string(), effect: z.enum(['allow', 'deny']), source: z.string() })),
      errors: z.array(AccessPolicyFindingSchema),
      warnings: z.array(AccessPolicyFindingSchema),
    }),
  },
} as const;
