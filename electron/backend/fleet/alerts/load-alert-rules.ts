import { isMap, isScalar, type Document } from 'yaml';
import { describePath, offsetOf, parseLocatedYaml, toValue, YAML_FILE_LIMITS, type PathSegment } from '../../../../agents-runtime/src/wire';
import { ALERT_RULE_KINDS, type AlertRuleError, type AlertRuleKind } from '../../../contract';
import { closestMatch } from '../../config/closest-match';
import { forEachYamlFile } from '../../config/yaml-folders';
import { RULE_KEYS, RULE_SCHEMAS, type AlertRule } from './alert-rule-schema';

export interface AlertRuleSet {
  readonly rules: readonly AlertRule[];
  readonly errors: readonly AlertRuleError[];
}

const REMEDY =
  'Correct that rule in its file (config/alerts/default.yaml shows every kind and its settings); the other rules keep working meanwhile.';
const FOLDER_REMEDY =
  'Make it a folder the app can read, holding the *.yaml rule files; the rules of the other folders keep working meanwhile.';
const FILE_REMEDY = `Fix the file at that line and column (YAML indented with spaces, under ${YAML_FILE_LIMITS.maxBytes / 1024 / 1024} MiB); the rules of the other files keep working meanwhile.`;

/**
 * Reads every rule file (*.yaml, *.yml) of the folders, in order: the shipped
 * config/alerts/ first, then the operator's. A rule of a later folder replaces the earlier
 * folder's rule of the same name (`enabled: false` switches a shipped one off); within one
 * folder a name is used once. A file or rule that does not load is an error naming its
 * file:line:column, and every other rule loads.
 */
export function loadAlertRules(folders: readonly string[]): AlertRuleSet {
  const byName = new Map<string, AlertRule>();
  const errors: AlertRuleError[] = [];
  const namedIn = new Map<string, Set<string>>();
  forEachYamlFile(folders, {
    failed(at, why, kind) {
      // A folder not readable: its rules are missing, and every other folder's still load.
      errors.push({
        code: 'ALERT_RULE_INVALID',
        message: `${at}:1:1: the rule ${kind} ${why}.`,
        remedy: kind === 'folder' ? FOLDER_REMEDY : FILE_REMEDY,
        file: at,
        line: 1,
        column: 1,
      });
    },
    file(dir, file, text) {
      const namedHere = namedIn.get(dir) ?? new Set<string>();
      namedIn.set(dir, namedHere);
      const parsed = parseAlertRules(text, file);
      errors.push(...parsed.errors);
      for (const rule of parsed.rules) {
        if (namedHere.has(rule.spec.name)) {
          const [line, column] = rule.source.split(':').slice(-2).map(Number) as [number, number];
          errors.push(
            ruleError(
              file,
              { line, column },
              `rule "${rule.spec.name}" is defined twice in ${dir}`,
              'Give each rule its own name; to change a shipped rule, put a rule of the same name in the operator folder.',
            ),
          );
          continue;
        }
        namedHere.add(rule.spec.name);
        byName.set(rule.spec.name, rule);
      }
    },
  });
  return { rules: [...byName.values()].filter((rule) => rule.spec.enabled), errors };
}

/** The rules of one file and the errors of those that did not load. */
export function parseAlertRules(text: string, file: string): AlertRuleSet {
  const yaml = parseLocatedYaml(text, file, YAML_FILE_LIMITS);
  if (yaml.doc === undefined) {
    const at = yaml.position(yaml.problem?.offset ?? 0);
    return { rules: [], errors: [{ code: 'ALERT_RULE_INVALID', message: `${yaml.syntaxError}.`, remedy: FILE_REMEDY, file, ...at }] };
  }
  const { doc } = yaml;
  const at = (segments: readonly PathSegment[], offset = offsetOf(doc, segments)) => yaml.position(offset);
  const top: unknown = toValue(doc);
  if (top === null || top === undefined) return { rules: [], errors: [] };
  const topKeys = isRecord(top) ? Object.keys(top) : [];
  if (!isRecord(top) || !Array.isArray(top.rules) || topKeys.some((key) => key !== 'rules')) {
    const stray = topKeys.find((key) => key !== 'rules');
    const where = stray === undefined ? at([]) : at([], keyOffset(doc, [], stray));
    return {
      rules: [],
      errors: [
        ruleError(
          file,
          where,
          stray === undefined
            ? 'the file must hold `rules:`, a list of rules'
            : `unknown top-level key "${stray}": a rule file holds only \`rules:\``,
          'Write the rules as a list under `rules:`, as config/alerts/default.yaml does; the other files keep working meanwhile.',
        ),
      ],
    };
  }
  const rules: AlertRule[] = [];
  const errors: AlertRuleError[] = [];
  top.rules.forEach((item: unknown, index) => {
    const here: PathSegment[] = ['rules', index];
    const named = isRecord(item) && typeof item.name === 'string' ? `rule "${item.name}" (${describePath(here)})` : describePath(here);
    const fail = (segments: PathSegment[], why: string, offset?: number): void =>
      void errors.push(ruleError(file, at(segments, offset), `${named}: ${why}`, REMEDY));
    if (!isRecord(item)) return fail(here, 'expected a rule: a mapping with name:, kind: and the kind’s settings');
    const kind = item.kind;
    if (typeof kind !== 'string' || !(ALERT_RULE_KINDS as readonly string[]).includes(kind)) {
      const guess = typeof kind === 'string' ? closestMatch(kind, ALERT_RULE_KINDS) : undefined;
      const why =
        kind === undefined
          ? `kind: is required (one of ${ALERT_RULE_KINDS.join(', ')})`
          : `unknown kind "${String(kind)}"${guess ? `; did you mean ${guess}?` : ''} (kinds: ${ALERT_RULE_KINDS.join(', ')})`;
      return fail(kind === undefined ? here : [...here, 'kind'], why);
    }
    const parsed = RULE_SCHEMAS[kind as AlertRuleKind].safeParse(item);
    if (!parsed.success) {
      // A misspelt key also leaves its setting missing: the key is the one to point at.
      const issue = parsed.error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? parsed.error.issues[0]!;
      const segments = [...here, ...(issue.path as PathSegment[])];
      if (issue.code === 'unrecognized_keys') {
        const key = issue.keys[0]!;
        const guess = closestMatch(key, RULE_KEYS[kind as AlertRuleKind]);
        return fail(
          [...segments, key],
          `unknown key "${key}" for kind ${kind}${guess ? `; did you mean ${guess}?` : ''} (keys: ${RULE_KEYS[kind as AlertRuleKind].join(', ')})`,
          keyOffset(doc, segments, key),
        );
      }
      const missing = issue.code === 'invalid_type' && / received undefined$/.test(issue.message);
      const field = describePath(issue.path as PathSegment[]);
      return fail(segments, missing ? `${field}: is required (expected ${issue.expected})` : `${field}: ${issue.message}`);
    }
    const { line, column } = at(here);
    rules.push({ spec: parsed.data, source: `${file}:${line}:${column}` });
  });
  return { rules, errors };
}

function ruleError(file: string, where: { line: number; column: number }, why: string, remedy: string): AlertRuleError {
  return { code: 'ALERT_RULE_INVALID', message: `${file}:${where.line}:${where.column}: ${why}.`, remedy, file, ...where };
}

function keyOffset(doc: Document, segments: readonly PathSegment[], key: string): number | undefined {
  const map = segments.length === 0 ? doc.contents : doc.getIn(segments, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
