import { ApiError, type Alert, type ApiClient } from '../../contract';
import { EXIT } from './exit-codes';
import { formatTable } from './format-text';

export interface AlertsCommandContext {
  args: string[];
  values: Record<string, string | boolean | string[] | undefined>;
  print(text: string, value: unknown): void;
  api(): Promise<ApiClient>;
}

/**
 * `sutazai alerts [--ack ID] [--rules] [--json]`: the firing, pending and recently resolved
 * alerts (what the desktop app or web mode evaluates; a command reads what they stored),
 * acknowledging one as the command's user, or the loaded rules and the rule-file errors.
 */
export async function runAlertsCommand(ctx: AlertsCommandContext): Promise<number> {
  if (ctx.args.length > 0)
    throw new ApiError(
      'BAD_PARAMS',
      `\`alerts\` takes no arguments (got "${ctx.args.join(' ')}").`,
      'Run `sutazai alerts [--ack ID] [--rules] [--json]`.',
    );
  const ack = ctx.values.ack;
  if (typeof ack === 'string') {
    if (!/^[1-9]\d{0,15}$/.test(ack))
      throw new ApiError(
        'BAD_PARAMS',
        `--ack takes an alert's id, a whole number (got "${ack}").`,
        'Run `sutazai alerts` for the alerts and their ids.',
      );
    const alert = await (await ctx.api()).call('alerts.ack', { id: Number(ack) });
    ctx.print(
      `Alert ${alert.id} (${alert.rule}, ${alert.state}) acknowledged by ${alert.acknowledged!.by} at ${iso(alert.acknowledged!.atMs)}.`,
      alert,
    );
    return EXIT.OK;
  }
  if (ctx.values.rules === true) {
    const { rules, errors } = await (await ctx.api()).call('alerts.rules', {});
    const table = formatTable(
      ['RULE', 'KIND', 'SEVERITY', 'FOR', 'SETTINGS', 'FILE'],
      rules.map((rule) => [
        rule.name,
        rule.kind,
        rule.severity,
        `${rule.forMs / 1000}s`,
        Object.entries(rule.settings)
          .map(([key, value]) => `${key}=${value}`)
          .join(' '),
        rule.source,
      ]),
    );
    const problems = errors.map((error) => `error ${error.code}: ${error.message}\nremedy: ${error.remedy}`);
    ctx.print([table, ...problems].join('\n'), { rules, errors });
    // A rule that did not load is invalid input, as a broken configuration file is.
    return errors.length > 0 ? EXIT.USAGE : EXIT.OK;
  }
  const { alerts } = await (await ctx.api()).call('alerts.list', {});
  ctx.print(alerts.length === 0 ? 'No alerts are firing or pending, and none resolved in the last 24 hours.' : formatAlerts(alerts), {
    alerts,
  });
  return EXIT.OK;
}

function formatAlerts(alerts: Alert[]): string {
  return formatTable(
    ['ID', 'STATE', 'SEVERITY', 'RULE', 'SINCE', 'ACKNOWLEDGED', 'SUMMARY'],
    alerts.map((alert) => [
      String(alert.id),
      alert.state,
      alert.severity,
      alert.rule,
      iso(alert.resolvedAtMs ?? alert.firingSinceMs ?? alert.activeSinceMs),
      alert.acknowledged ? `${alert.acknowledged.by} ${iso(alert.acknowledged.atMs)}` : '-',
      alert.summary,
    ]),
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
