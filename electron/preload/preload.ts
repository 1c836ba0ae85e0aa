// Runs sandboxed and context-isolated: the page gets `window.sutazaiShell` and one
// MessagePort to the backend, and nothing else from Electron or Node.
import { contextBridge, ipcRenderer } from 'electron';
import type { IpcRendererEvent } from 'electron';
import { isBackendPortDelivery } from './backend-port-delivery';
import { IPC_BACKEND_PORT, IPC_CONNECT } from './ipc-channels';

const shell = Object.freeze({
  kind: 'electron' as const,
  /** Asks main for a fresh port; it arrives as a `sutazai:backend-port` window message. */
  requestBackendPort(): void {
    ipcRenderer.send(IPC_CONNECT);
  },
});

contextBridge.exposeInMainWorld('sutazaiShell', shell);

ipcRenderer.on(IPC_BACKEND_PORT, (event: IpcRendererEvent, ...args: unknown[]) => {
  const port = event.ports[0];
  if (
    port === undefined ||
    !isBackendPortDelivery({ fromIpcRenderer: event.sender === ipcRenderer, portCount: event.ports.length, args })
  ) {
    return;
  }
  // contextBridge cannot carry a MessagePort, so it crosses into the page's world by
  // window.postMessage, addressed to our own origin only.
  window.postMessage({ type: IPC_BACKEND_PORT }, window.location.origin, [port]);
});
