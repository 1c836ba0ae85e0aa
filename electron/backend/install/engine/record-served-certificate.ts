import type { RecordedCertificates } from '../../fleet/alerts/recorded-certificates';
import { openRuntimeConnection, type RuntimeTls } from '../../fleet/runtime-connection';
import type { SshSession } from '../../hosts/ssh/ssh-session';

/** Where an apply records the server certificate a host's runtime serves (fleet/alerts/recorded-certificates.ts). */
export type ServedCertificates = Pick<RecordedCertificates, 'recordPresented'>;

/** The runtime whose certificate is read: over the job's own SSH session, at the address the job started it with. */
export interface ServingRuntime {
  hostId: number;
  session: SshSession;
  runtimeAddress: string;
  runtimePort: number;
}

/** What a job needs to record the certificate a runtime it started serves. */
export interface CertificateRecording {
  certificates: ServedCertificates;
  now: () => number;
}

const READ_TIMEOUT_MS = 20_000;

/**
 * Once a host's runtime passed its health gate (an apply's, a rollback's or an automatic
 * return's), reads the server certificate it serves over the job's own SSH connection and
 * records it, so that a host whose fleet link never came up (a job from the command line, a
 * link that cannot connect) still has the expiry the certificate-expiry alert reads, and a
 * rollback to a release with another certificate is not left with the one it replaced.
 * Read, not taken from the configure step: a change of the manifest alone writes a new
 * certificate that the runtime, which keeps running and takes the manifest in place, serves
 * only from its next start. A failed read does not fail the job: the link reads the
 * certificate again when it comes up. Returns a line for the health step's output.
 */
export async function recordServedCertificate(runtime: ServingRuntime, tls: RuntimeTls, recording: CertificateRecording): Promise<string> {
  try {
    const connection = await openRuntimeConnection({
      session: runtime.session,
      runtimeAddress: runtime.runtimeAddress,
      runtimePort: runtime.runtimePort,
      tls,
      callTimeoutMs: READ_TIMEOUT_MS,
    });
    try {
      const served = await connection.serverCertificate();
      recording.certificates.recordPresented(runtime.hostId, served, recording.now());
      return `the runtime serves a certificate valid until ${new Date(served.notAfterMs).toISOString()} (recorded for the certificate-expiry alert)`;
    } finally {
      await connection.close();
    }
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return `the runtime's server certificate could not be read (${why}); its expiry is read when the host's fleet link comes up`;
  }
}
