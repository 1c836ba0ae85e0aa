export interface PortDelivery {
  /** Whether the event's `sender` is this preload's own `ipcRenderer`. */
  fromIpcRenderer: boolean;
  /** The event's transferred ports. */
  portCount: number;
  /** The arguments that came with the message (main sends `null` and nothing else). */
  args: readonly unknown[];
}

/**
 * A backend port delivery is forwarded to the page only when it has exactly the shape
 * main sends: from ipcRenderer, one transferred port, a `null` message. Anything else is
 * dropped rather than guessed at.
 */
export function isBackendPortDelivery({ fromIpcRenderer, portCount, args }: PortDelivery): boolean {
  return fromIpcRenderer && portCount === 1 && args.length === 1 && args[0] === null;
}
