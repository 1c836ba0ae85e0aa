import { describe, expect, it } from 'vitest';
import { isBackendPortDelivery } from '../../../electron/preload/backend-port-delivery';
import { IPC_BACKEND_PORT, IPC_CONNECT } from '../../../electron/preload/ipc-channels';

describe('backend port delivery', () => {
  const delivery = { fromIpcRenderer: true, portCount: 1, args: [null] };

  it('uses the two channel names main and the renderer agree on', () => {
    expect(IPC_CONNECT).toBe('sutazai:connect');
    expect(IPC_BACKEND_PORT).toBe('sutazai:backend-port');
  });

  it('forwards exactly what main sends: one port and a null message', () => {
    expect(isBackendPortDelivery(delivery)).toBe(true);
  });

  it('drops a message with no port or several ports', () => {
    expect(isBackendPortDelivery({ ...delivery, portCount: 0 })).toBe(false);
    expect(isBackendPortDelivery({ ...delivery, portCount: 2 })).toBe(false);
  });

  it('drops a message that carries data or did not come from ipcRenderer', () => {
    expect(isBackendPortDelivery({ ...delivery, args: [{ type: 'client-port' }] })).toBe(false);
    expect(isBackendPortDelivery({ ...delivery, args: [] })).toBe(false);
    expect(isBackendPortDelivery({ ...delivery, args: [null, 'extra'] })).toBe(false);
    expect(isBackendPortDelivery({ ...delivery, fromIpcRenderer: false })).toBe(false);
  });
});
