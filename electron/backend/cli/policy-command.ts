import { ApiError, type ApiClient } from '../../contract';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';

export interface PolicyCommandContext {
  args: string[];
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai policy [--json]`: the access policy for installs under `access_control: abac`
 * (config/policies, then the data directory's policies/): its rules with where each is
 * written, each file or rule that did not load and each rule that selects nothing, with its
 * file:line:column and remedy.
 */
export async function runPolicyCommand(ctx: PolicyCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw new ApiError('BAD_PARAMS', `\`policy\` takes no arguments (got "${ctx.args.join(' ')}").`, 'Run `sutazai policy [--json]`.');
  const policy = await (await ctx.api()).call('access.policy', {});
  const table = formatTable(
    ['RULE', 'EFFECT', 'FILE'],
    policy.rules.map((rule) => [rule.name, rule.effect, rule.source]),
  );
  const findings = [...policy.errors.map((f) => ['error', f] as const), ...policy.warnings.map((f) => ['warning', f] as const)].map(
    ([kind, finding]) => `${kind} ${finding.code}: ${finding.message}\nremedy: ${finding.remedy}`,
  );
  ctx.print([table, ...findings].join('\n'), policy);
  // A rule that did not load is invalid input, as a broken alert rule is; a rule that selects nothing is only a warning.
  return policy.errors.length > 0 ? EXIT.USAGE : EXIT.OK;
}
