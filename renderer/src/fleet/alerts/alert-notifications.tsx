import { useAppInfo } from '../../api/queries';
import { useAlertNotifications } from './use-alert-notifications';

/**
 * Web mode's alert notifications: raises a browser notification for each alert that starts
 * firing, and offers to turn them on (a browser asks only from a click). Nothing shows in the
 * desktop app, whose shell raises its own.
 */
export function AlertNotifications() {
  const mode = useAppInfo().data?.mode;
  const { permission, request } = useAlertNotifications();
  if (mode !== 'web' || permission === 'granted' || permission === 'unsupported') return null;
  if (permission === 'denied')
    return (
      <p className="alert-notifications muted" data-testid="alert-notifications">
        Alert notifications are blocked for this page: allow them in the browser’s site settings.
      </p>
    );
  return (
    <button type="button" className="button alert-notifications" data-testid="alert-notifications" onClick={request}>
      Notify me of alerts
    </button>
  );
}
