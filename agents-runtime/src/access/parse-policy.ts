/**
 * Reads one policy file: `rules:`, a list of rules (policy-schema.ts), and in a policy the
 * control center pushes to a runtime also `target:`. A rule that does not load is an error
 * naming its file:line:column, and every other rule still loads, as with alert rules. The
 * text is read with the runtime's YAML limits (size, nesting, aliases).
 */
import { describePath, keyOffset, locateIssue, offsetOf, parseLocatedYaml, type PathSegment } from '../yaml/locate-issue';
import { toValue, YAML_FILE_LIMITS } from '../yaml/read-yaml';
import { PolicyRuleSchema, PolicyTargetSchema, RULE_KEYS, type PolicyRule, type PolicyTarget } from './policy-schema';

/** A rule or file that did not load; `message` starts with `file:line:column:`. */
export interface PolicyProblem {
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** The name of the rule that did not load, when it has one (it may have been meant to replace a shipped rule of that name). */
  readonly rule?: string | undefined;
}

export interface ParsedPolicy {
  readonly rules: readonly PolicyRule[];
  readonly errors: readonly PolicyProblem[];
  readonly target?: PolicyTarget | undefined;
  /**
   * In a pushed policy: the control center's policy files that did not load (`invalid:`, each
   * "file:line:column: why"). While any is listed the runtime refuses every call the policy
   * judges, as the control center does: a broken deny must not open what it meant to close.
   */
  readonly invalid?: readonly string[] | undefined;
}

export interface ParsePolicyOptions {
  /** "did you mean" for a misspelt key: the control center passes its closest-match helper. */
  suggest?: (word: string, candidates: readonly string[]) => string | undefined;
  /** Whether `target:` may appear (a pushed policy), besides `rules:`. */
  allowTarget?: boolean;
}

export function parsePolicy(text: string, file: string, options: ParsePolicyOptions = {}): ParsedPolicy {
  const yaml = parseLocatedYaml(text, file, YAML_FILE_LIMITS);
  if (yaml.doc === undefined) {
    const at = yaml.position(yaml.problem?.offset ?? 0);
    return { rules: [], errors: [{ message: `${yaml.syntaxError}.`, file, ...at }] };
  }
  const { doc } = yaml;
  const problem = (offset: number, why: string): PolicyProblem => {
    const at = yaml.position(offset);
    return { message: `${file}:${at.line}:${at.column}: ${why}.`, file, ...at };
  };
  const top: unknown = toValue(doc);
  if (top === null || top === undefined) return { rules: [], errors: [] };
  const allowed = options.allowTarget ? ['rules', 'target', 'invalid'] : ['rules'];
  const stray = isRecord(top) ? Object.keys(top).find((key) => !allowed.includes(key)) : undefined;
  if (!isRecord(top) || stray !== undefined || !Array.isArray(top.rules)) {
    const why =
      stray !== undefined
        ? `unknown top-level key "${stray}": a policy file holds only \`rules:\``
        : 'the file must hold `rules:`, a list of rules (config/policies/default.yaml shows one)';
    return { rules: [], errors: [problem(stray === undefined ? offsetOf(doc, []) : (keyOffset(doc, [], stray) ?? 0), why)] };
  }
  const errors: PolicyProblem[] = [];
  let target: PolicyTarget | undefined;
  if (top.target !== undefined) {
    const parsed = PolicyTargetSchema.safeParse(top.target);
    if (parsed.success) target = parsed.data;
    else {
      const issue = locateIssue(doc, { ...parsed.error.issues[0]!, path: ['target', ...parsed.error.issues[0]!.path] });
      errors.push(problem(issue.offset, `${describePath(issue.path)}: ${issue.why}`));
    }
  }
  let invalid: string[] | undefined;
  if (top.invalid !== undefined) {
    const listed = Array.isArray(top.invalid) ? top.invalid.filter((item): item is string => typeof item === 'string') : [];
    // Anything but a list of texts still says the policy is broken: never read as "nothing is".
    invalid = listed.length > 0 ? listed : ['invalid: the pushed list of policy problems is not a list of texts'];
  }
  const rules: PolicyRule[] = [];
  top.rules.forEach((item: unknown, index) => {
    const here: PathSegment[] = ['rules', index];
    const named = isRecord(item) && typeof item.name === 'string' ? `rule "${item.name}" (${describePath(here)})` : describePath(here);
    const parsed = PolicyRuleSchema.safeParse(item);
    if (!parsed.success) {
      // A misspelt key also leaves its setting missing: the key is the one to point at.
      const first = parsed.error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
      const issue = locateIssue(doc, { ...first, path: [...here, ...first.path] });
      let why = `${describePath(issue.path.slice(here.length))}: ${issue.why}`;
      if (first.code === 'unrecognized_keys' && first.path.length === 0) {
        const key = first.keys[0]!;
        const guess = options.suggest?.(key, RULE_KEYS);
        why = `unknown key "${key}"${guess ? `; did you mean ${guess}?` : ''} (keys: ${RULE_KEYS.join(', ')})`;
      }
      errors.push({
        ...problem(issue.offset, `${named}: ${why}`),
        rule: isRecord(item) && typeof item.name === 'string' ? item.name : undefined,
      });
      return;
    }
    const at = yaml.position(offsetOf(doc, here));
    rules.push({ spec: parsed.data, source: parsed.data.source ?? `${file}:${at.line}:${at.column}` });
  });
  return { rules, errors, target, invalid };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
