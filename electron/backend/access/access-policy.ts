import path from 'node:path';
import { parsePolicy, unmatchedRules, type PolicyInventory, type PolicyProblem, type PolicyRule } from '../../../agents-runtime/src/access';
import type { ApiErrorBody } from '../../contract';
import { closestMatch } from '../config/closest-match';
import { forEachYamlFile, yamlFoldersSignature } from '../config/yaml-folders';

/** A policy file or rule that did not load (file:line:column), or a rule that selects nothing. */
export type PolicyFinding = ApiErrorBody & { file: string; line: number; column: number };

export interface LoadedPolicy {
  readonly rules: readonly PolicyRule[];
  /** Files and rules that did not load (ACCESS_POLICY_INVALID): while any is listed the policy refuses everything it judges (policy-gate.ts). */
  readonly errors: readonly PolicyFinding[];
  /** Rules that select no install, host, process or operator that exists (ACCESS_POLICY_UNMATCHED). */
  readonly warnings: readonly PolicyFinding[];
}

export interface AccessPolicy {
  /** The policy as the files say now: read again when a file was added, removed or changed. */
  current(): LoadedPolicy;
}

export interface AccessPolicyOptions {
  /** The shipped config/policies/ first, then the operator's (a rule there replaces a shipped one of its name). */
  folders: () => readonly string[];
  /** What exists, to find rules that select nothing. */
  inventory: () => PolicyInventory;
  logger: { warn(details: object, message: string): void; info(details: object, message: string): void };
}

const RULE_REMEDY =
  'Correct that rule in its file (config/policies/default.yaml lists every key); until the file loads, every action the policy judges is refused (ACCESS_POLICY_INVALID). `sutazai policy` shows every problem.';
const FILE_REMEDY =
  'Make the policy folder and its *.yaml files readable (under 1 MiB each); until then every action the policy judges is refused (ACCESS_POLICY_INVALID).';
const UNMATCHED_REMEDY =
  "Check the rule's names and labels against the installs, hosts, processes and operators that exist (a misspelling selects nothing); it still applies to what it names once that exists.";

/** The shipped rules first, then the operator's (policies/ of the data directory); without a shipped config/ folder, the operator's alone. */
export function policyFolders(configDir: () => string, dataDir: string): string[] {
  let shipped: string[] = [];
  try {
    shipped = [path.join(configDir(), 'policies')];
  } catch {
    // No config/ found (defaultConfigDir throws): the shipped allow-by-role is missing, and the site's rules still load.
  }
  return [...shipped, path.join(dataDir, 'policies')];
}

/**
 * `access_control: abac`'s policy for the control center (issue 14, item 3): every *.yaml of
 * the policy folders, read with the runtime's own reader (agents-runtime/src/access), rules of
 * a later folder replacing the earlier folder's rule of the same name, each problem logged
 * once per change of the files.
 */
export function createAccessPolicy(options: AccessPolicyOptions): AccessPolicy {
  let loaded: { rules: PolicyRule[]; errors: PolicyFinding[] } = { rules: [], errors: [] };
  let signature: string | undefined;
  const reloadIfChanged = (): void => {
    const now = yamlFoldersSignature(options.folders());
    if (now === signature) return;
    loaded = loadPolicyFolders(options.folders());
    signature = now;
    for (const error of loaded.errors) options.logger.warn({ code: error.code, remedy: error.remedy }, error.message);
    options.logger.info({ rules: loaded.rules.length, errors: loaded.errors.length }, 'access policy loaded');
  };
  return {
    current() {
      reloadIfChanged();
      const warnings = unmatchedRules(loaded.rules, options.inventory()).map((warning) =>
        finding('ACCESS_POLICY_UNMATCHED', warning, UNMATCHED_REMEDY),
      );
      return { rules: loaded.rules, errors: loaded.errors, warnings };
    },
  };
}

export function loadPolicyFolders(folders: readonly string[]): { rules: PolicyRule[]; errors: PolicyFinding[] } {
  const byName = new Map<string, PolicyRule>();
  const errors: PolicyFinding[] = [];
  const namedIn = new Map<string, Set<string>>();
  forEachYamlFile(folders, {
    failed(at, why, kind) {
      errors.push({
        code: 'ACCESS_POLICY_INVALID',
        message: `${at}:1:1: the policy ${kind} ${why}.`,
        remedy: FILE_REMEDY,
        file: at,
        line: 1,
        column: 1,
      });
    },
    file(dir, file, text) {
      const namedHere = namedIn.get(dir) ?? new Set<string>();
      namedIn.set(dir, namedHere);
      const parsed = parsePolicy(text, file, { suggest: closestMatch });
      errors.push(...parsed.errors.map((problem) => finding('ACCESS_POLICY_INVALID', problem, RULE_REMEDY)));
      // A rule that does not load may have been meant to replace (or switch off) an allow of its name:
      // that allow goes too, so a typo in `enabled: false` on allow-by-role never leaves everything allowed.
      // An earlier deny of the name stays: the stricter of the two is kept.
      for (const problem of parsed.errors)
        if (problem.rule !== undefined && byName.get(problem.rule)?.spec.effect === 'allow') byName.delete(problem.rule);
      for (const rule of parsed.rules) {
        if (namedHere.has(rule.spec.name)) {
          const [line, column] = rule.source.split(':').slice(-2).map(Number) as [number, number];
          const problem = { message: `${rule.source}: rule "${rule.spec.name}" is defined twice in ${dir}.`, file, line, column };
          errors.push(
            finding(
              'ACCESS_POLICY_INVALID',
              problem,
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
  // A rule switched off (`enabled: false`, to drop a shipped one) takes no part.
  return { rules: [...byName.values()].filter((rule) => rule.spec.enabled), errors };
}

function finding(code: 'ACCESS_POLICY_INVALID' | 'ACCESS_POLICY_UNMATCHED', problem: PolicyProblem, remedy: string): PolicyFinding {
  return { code, message: problem.message, remedy, file: problem.file, line: problem.line, column: problem.column };
}
