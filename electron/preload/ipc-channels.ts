/**
 * The only two IPC channels between the shell's main process and its preload. Main
 * answers `connect` with a MessagePort to the backend on `backendPort`; the preload
 * forwards that port into the page under the same name. Nothing else crosses.
 */
export const IPC_CONNECT = 'sutazai:connect';
export const IPC_BACKEND_PORT = 'sutazai:backend-port';
