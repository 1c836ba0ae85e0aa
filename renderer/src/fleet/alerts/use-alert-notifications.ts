import { useState } from 'react';
import { alertNotification, type AlertChange } from '../../../../electron/contract';
import { useAppInfo } from '../../api/queries';
import { useApiEvent } from '../../api/use-api-event';

export type BrowserNotificationPermission = 'default' | 'granted' | 'denied' | 'unsupported';

/**
 * Whether this page raises a browser notification for an alert's change: only in web mode
 * (the desktop shell raises its own from the backend), only when one starts firing, and only
 * where the operator allowed it.
 */
export function notifiesInBrowser(mode: string | undefined, change: AlertChange, permission: BrowserNotificationPermission): boolean {
  return mode === 'web' && change === 'firing' && permission === 'granted';
}

function currentPermission(): BrowserNotificationPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/**
 * Raises a browser Notification for each alert that starts firing while the page is open in
 * web mode, where the operator allowed notifications; `request` asks for that (browsers
 * only ask from a click). Mount it once, high in the app.
 */
export function useAlertNotifications(): { permission: BrowserNotificationPermission; request(): void } {
  const mode = useAppInfo().data?.mode;
  const [permission, setPermission] = useState<BrowserNotificationPermission>(currentPermission);
  useApiEvent(
    'alerts.changed',
    {},
    ({ change, alert }) => {
      if (!notifiesInBrowser(mode, change, currentPermission())) return;
      const { title, body } = alertNotification(alert);
      // The tag folds repeats of one alert (another tab, a reconnect) into one notification.
      new Notification(title, { body, tag: `sutazai-alert-${alert.id}` });
    },
    { enabled: mode === 'web' },
  );
  return {
    permission,
    request() {
      if (typeof Notification === 'undefined') return;
      void Notification.requestPermission().then(setPermission);
    },
  };
}
