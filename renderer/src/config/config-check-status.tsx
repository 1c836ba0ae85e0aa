import type { ConfigCheckResult } from '../../../electron/contract';
import type { ConfigCheckState } from './use-config-check';

/** One line saying where a check as-you-type stands: checking, valid over which profile, or refused. */
export function ConfigCheckStatus({
  state,
  result,
  testId = 'config-status',
}: {
  state: ConfigCheckState;
  result: ConfigCheckResult | undefined;
  /** Distinct where a page shows more than one check. */
  testId?: string;
}) {
  const text =
    state === 'checking'
      ? 'Checking…'
      : state === 'error'
        ? 'Could not check'
        : result?.valid
          ? `Valid, merged over the defaults and the ${result.environment} profile`
          : 'Refused: the install would stop on this';
  return (
    <p className={`config-status config-status-${state}`} role="status" data-testid={testId} data-state={state}>
      {text}
    </p>
  );
}
