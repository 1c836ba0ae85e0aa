/**
 * Attribute-based access (issue 14, item 3): one policy reader and one evaluator for the
 * runtime and the control center. The control center imports this index (and actions.ts,
 * pure data, from its contract); nothing here does I/O.
 */
export { ACTIONS, isAction, type Action } from './actions';
export { PolicyRuleSchema, RULE_KEYS, isTimeZone, type PolicyRule, type PolicyRuleSpec, type PolicyTarget } from './policy-schema';
export { parsePolicy, type ParsedPolicy, type ParsePolicyOptions, type PolicyProblem } from './parse-policy';
export {
  describeResource,
  evaluatePolicy,
  ruleMatches,
  withinHours,
  type AccessRequest,
  type AccessResource,
  type AccessSubject,
  type DecidingRule,
  type PolicyDecision,
  type PolicyOptions,
  type SubjectAttributes,
} from './evaluate-policy';
export { unmatchedRules, type PolicyInventory } from './unmatched-rules';
export { createRuntimePolicy, processOfInstance, RUNTIME_METHOD_ACTIONS, type RuntimeCall, type RuntimePolicy } from './runtime-policy';
