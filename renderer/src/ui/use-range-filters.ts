import { useState } from 'react';
import { useSessionState } from './use-session-state';

/**
 * A page's filters kept across leaving it (useSessionState), with a relative time range
 * ("last hour") that counts back from when it was chosen, or the page opened: choosing a
 * range again moves that moment to now. The Events and Audit pages filter this way.
 */
export function useRangeFilters<F extends { range: unknown }>(
  key: string,
  initial: F,
  restore: (stored: unknown) => F | null,
): { filters: F; change: (next: Partial<F>) => void; anchorMs: number } {
  const [filters, setFilters] = useSessionState<F>(key, initial, restore);
  const [anchorMs, setAnchorMs] = useState(Date.now);
  const change = (next: Partial<F>): void => {
    if (next.range !== undefined) setAnchorMs(Date.now());
    setFilters({ ...filters, ...next });
  };
  return { filters, change, anchorMs };
}
