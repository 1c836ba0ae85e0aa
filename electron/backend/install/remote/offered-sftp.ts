import type { SFTPWrapper } from 'ssh2';
import { ChannelRefusedError } from '../../hosts/ssh/ssh-errors';
import type { SshSession } from '../../hosts/ssh/ssh-session';

// Connections whose server refused SFTP: later transfers on them go through commands at once.
const withoutSftp = new WeakSet<SshSession>();

/**
 * An SFTP channel, or null when the host offers none (hardened servers often turn the
 * sftp subsystem off, and Dropbear without an sftp-server has none): the caller then sends
 * its files through a command instead, as Ansible falls back to piping. Any other failure
 * (a lost connection) is thrown. `opening` is a channel the caller asked for already.
 */
export async function sftpIfOffered(session: SshSession, opening?: Promise<SFTPWrapper>): Promise<SFTPWrapper | null> {
  if (withoutSftp.has(session)) {
    opening?.then(
      (sftp) => sftp.end(),
      () => undefined,
    );
    return null;
  }
  try {
    return await (opening ?? session.sftp());
  } catch (error) {
    if (!(error instanceof ChannelRefusedError && error.request === 'sftp')) throw error;
    withoutSftp.add(session);
    return null;
  }
}

/** How files reached a host: SFTP, or a command's stdin where the host offers no SFTP. */
export type FileTransport = 'sftp' | 'exec';

/** Says in a step's detail which way its files went. */
export function transportNote(transport: FileTransport): string {
  return transport === 'exec' ? 'through a command (the host offers no SFTP)' : 'over SFTP';
}
