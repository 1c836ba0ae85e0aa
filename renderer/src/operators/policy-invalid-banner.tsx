import { useApiQuery } from '../api/queries';

/** As often as the session is read again: a policy file fixed or broken meanwhile shows within this. */
const POLICY_REFRESH_MS = 15_000;

/**
 * Says, on every page, that the access policy does not load: while any policy file has an
 * error, every action the policy judges (on installs under `access_control: abac`) is refused
 * with ACCESS_POLICY_INVALID, in this control center and in the runtimes, so a broken deny
 * never opens what it meant to close. Names the first problem at its file:line:column and the
 * way out; the text is the backend's, shown as text.
 */
export function PolicyInvalidBanner() {
  const policy = useApiQuery('access.policy', {}, { refetchInterval: POLICY_REFRESH_MS });
  const errors = policy.data?.errors ?? [];
  const first = errors[0];
  if (first === undefined) return null;
  return (
    <div className="banner banner-error" role="alert" data-testid="policy-invalid">
      <div>
        <strong>The access policy does not load, so every action it judges is refused.</strong> On installs under{' '}
        <span className="mono">access_control: abac</span>, nothing the policy decides is allowed until it is fixed: {first.message} Fix{' '}
        <span className="mono">
          {first.file}:{first.line}:{first.column}
        </span>
        {errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length === 2 ? '' : 's'})` : ''};{' '}
        <span className="mono">sutazai policy</span> lists every problem and the rules that loaded.
      </div>
    </div>
  );
}
