/**
 * Rules that select nothing that exists, found when a policy loads: a misspelt install or
 * label in a deny is a rule that silently protects nothing, so each is reported as a
 * warning with its location (the rule still loads: the install may be added later).
 */
import type { ParsedPolicy, PolicyProblem } from './parse-policy';
import { operatorsMatch, resourcesMatch, type AccessResource, type AccessSubject } from './evaluate-policy';
import type { PolicyRule } from './policy-schema';

export interface PolicyInventory {
  /** Every resource a rule could select: each host of each install, and each process there. */
  readonly resources: readonly AccessResource[];
  readonly operators: readonly AccessSubject[];
}

export function unmatchedRules(rules: ParsedPolicy['rules'], inventory: PolicyInventory): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  for (const rule of rules) {
    if (!rule.spec.enabled) continue;
    const why = unmatchedPart(rule, inventory);
    if (why === null) continue;
    const at = /^(.*):(\d+):(\d+)$/.exec(rule.source);
    const [file, line, column] = at ? [at[1]!, Number(at[2]), Number(at[3])] : [rule.source, 1, 1];
    warnings.push({ message: `${file}:${line}:${column}: rule "${rule.spec.name}" matches nothing: ${why}.`, file, line, column });
  }
  return warnings;
}

function unmatchedPart(rule: PolicyRule, inventory: PolicyInventory): string | null {
  const { spec } = rule;
  if (spec.operators !== undefined && !inventory.operators.some((subject) => operatorsMatch(spec, subject)))
    return 'no operator has the roles, names and attributes under operators:';
  // Resource selectors: judged one by one, to name the one that selects nothing.
  const selectors = spec.resources ?? {};
  for (const key of ['installs', 'host_labels', 'processes', 'environments'] as const) {
    if (selectors[key] === undefined) continue;
    const alone = { ...spec, resources: { [key]: selectors[key] } };
    if (!inventory.resources.some((resource) => resourcesMatch(alone, resource)))
      return `no ${key === 'host_labels' ? 'host carries' : 'resource has'} ${key} ${selectors[key]!.join(', ')}`;
  }
  if (spec.resources !== undefined && !inventory.resources.some((resource) => resourcesMatch(spec, resource)))
    return 'no resource has all of its resources: at once';
  return null;
}
