import type { Alert, AlertRuleError, AlertState } from '../../../../electron/contract';

/** The alerts by state, each group in the order `alerts.list` gives (newest first). */
export function groupAlerts(alerts: readonly Alert[]): Record<AlertState, Alert[]> {
  const groups: Record<AlertState, Alert[]> = { firing: [], pending: [], resolved: [] };
  for (const alert of alerts) groups[alert.state].push(alert);
  return groups;
}

/** The value that raised the alert, in its kind's unit; null where the kind has none. */
export function alertValue(alert: Pick<Alert, 'kind' | 'value'>): string | null {
  const value = alert.value;
  if (value === null) return null;
  switch (alert.kind) {
    case 'filesystem-usage':
    case 'memory-usage':
      return `${value.toFixed(1)} %`;
    case 'gpu-temperature':
      return `${value.toFixed(0)} °C`;
    case 'process-restarts':
      return `${value} restart${value === 1 ? '' : 's'}`;
    case 'certificate-expiry':
      return value < 0 ? 'expired' : `${value} day${value === 1 ? '' : 's'} left`;
    default:
      return String(value);
  }
}

/** The labels worth reading: the alert's name and severity are shown already. */
export function shownLabels(alert: Pick<Alert, 'labels'>): Array<[string, string]> {
  return Object.entries(alert.labels)
    .filter(([key]) => key !== 'alertname' && key !== 'severity')
    .sort(([a], [b]) => a.localeCompare(b));
}

/** Where a rule's problem is: `file:line:column`. */
export function ruleErrorWhere(error: Pick<AlertRuleError, 'file' | 'line' | 'column'>): string {
  return `${error.file}:${error.line}:${error.column}`;
}

/** The problem's message without the place it starts with (the page shows the place apart). */
export function withoutWhere(error: Pick<AlertRuleError, 'file' | 'line' | 'column' | 'message'>): string {
  const prefix = `${ruleErrorWhere(error)}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}
