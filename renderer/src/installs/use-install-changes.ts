import { useQueryClient } from '@tanstack/react-query';
import { apiKey } from '../api/queries';
import { useApiEvent } from '../api/use-api-event';

/**
 * Keeps the views of recorded installs current: when any job ends (or a host of it
 * settles), the installs, their jobs and their upgrade offers are read again.
 */
export function useInstallChanges(): void {
  const queryClient = useQueryClient();
  useApiEvent('installs.progress', {}, (progress) => {
    if (progress.kind !== 'finished' && progress.kind !== 'host') return;
    for (const method of ['installs.list', 'installs.get', 'installs.jobs', 'installs.upgradeOffer'] as const) {
      void queryClient.invalidateQueries({ queryKey: apiKey(method) });
    }
  });
}
