import type { RecordedCertificates } from '../../fleet/alerts/recorded-certificates';
import { openRuntimeConnection, type RuntimeTls } from '../../fleet/runtime-connection';
import type { PreparedHost } from '../plan/prepare-host';

/** Where an apply records the server certificate a host's runtime serves (fleet/alerts/recorded-certificates.ts). */
export type ServedCertificates = Pick<RecordedCertificates, 'recordPresented'>;

const READ_TIMEOUT_MS = 20_000;

/**
 * Once a host's runtime passed its health gate, reads the server certificate it serves over
 * the apply's own SSH connection and records it, so that a host whose fleet link never came
 * up (an apply from the command line, a link that cannot connect) still has the expiry the
 * certificate-expiry alert reads. Read, not taken from the configure step: a change of the
 * manifest alone writes a new certificate that the runtime, which keeps running and takes
 * the manifest in place, serves only from its next start. A failed read does not fail the
 * apply: the link reads the certificate again when it comes up. Returns a line for the
 * health step's output.
 */
export async function recordServedCertificate(
  host: PreparedHost,
  tls: RuntimeTls,
  certificates: ServedCertificates,
  now: () => number,
): Promise<string> {
  try {
    const connection = await openRuntimeConnection({
      session: host.session,
      runtimeAddress: host.config.runtime.listen_address,
      runtimePort: host.config.runtime.grpc_port,
      tls,
      callTimeoutMs: READ_TIMEOUT_MS,
    });
    try {
      const served = await connection.serverCertificate();
      certificates.recordPresented(host.row.id, served, now());
      return `the runtime serves a certificate valid until ${new Date(served.notAfterMs).toISOString()} (recorded for the certificate-expiry alert)`;
    } finally {
      await connection.close();
    }
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    return `the runtime's server certificate could not be read (${why}); its expiry is read when the host's fleet link comes up`;
  }
}
