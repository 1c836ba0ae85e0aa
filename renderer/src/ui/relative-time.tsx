import { useNow } from './use-now';
import { formatDateTime, formatRelativeTime } from '../format/time';

/** "3 min ago", with the exact local time on hover and for screen readers. */
export function RelativeTime({ ms, never = 'Never', testId }: { ms: number | null; never?: string; testId?: string }) {
  const now = useNow();
  if (ms === null)
    return (
      <span className="muted" data-testid={testId}>
        {never}
      </span>
    );
  return (
    <time dateTime={new Date(ms).toISOString()} title={formatDateTime(ms)} data-testid={testId}>
      {formatRelativeTime(ms, now)}
    </time>
  );
}
