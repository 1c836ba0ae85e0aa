import { describe, expect, it } from 'vitest';
import { alertNotification, type Alert } from '../../../electron/contract';
import { notifiesInBrowser } from '../../../renderer/src/fleet/alerts/use-alert-notifications';

const alert: Alert = {
  id: 4,
  rule: 'FilesystemAlmostFull',
  kind: 'filesystem-usage',
  severity: 'warning',
  state: 'firing',
  labels: { alertname: 'FilesystemAlmostFull', install: 'lab', host: 'db-1', mount: '/' },
  summary: 'db-1: filesystem / is 93.0% full (over 90%)',
  value: 93,
  hostId: 2,
  activeSinceMs: 1,
  firingSinceMs: 2,
  resolvedAtMs: null,
  acknowledged: null,
};

describe('alert notifications in the browser', () => {
  it('are raised only in web mode, for an alert that starts firing, where the operator allowed them', () => {
    expect(notifiesInBrowser('web', 'firing', 'granted')).toBe(true);
    // The desktop shell raises its own; the window must not raise a second one.
    expect(notifiesInBrowser('desktop', 'firing', 'granted')).toBe(false);
    for (const change of ['pending', 'resolved', 'dropped', 'acknowledged'] as const)
      expect(notifiesInBrowser('web', change, 'granted')).toBe(false);
    for (const permission of ['default', 'denied', 'unsupported'] as const)
      expect(notifiesInBrowser('web', 'firing', permission)).toBe(false);
    expect(notifiesInBrowser(undefined, 'firing', 'granted')).toBe(false);
  });

  it('say the severity, the rule, where, and the summary, in the same words as the desktop shell', () => {
    expect(alertNotification(alert)).toEqual({
      type: 'alert-notification',
      alertId: 4,
      title: 'Warning: FilesystemAlmostFull (lab / db-1)',
      body: 'db-1: filesystem / is 93.0% full (over 90%)',
    });
    expect(alertNotification({ ...alert, severity: 'info', labels: {} }).title).toBe('Notice: FilesystemAlmostFull');
  });
});
