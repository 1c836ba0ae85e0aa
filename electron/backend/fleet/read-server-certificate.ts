import { ApiError } from '../../contract';
import { connectRuntimeTls, type RuntimeTls } from './runtime-tls';

/** The certificate a runtime presents, as read from its TLS handshake. */
export interface PresentedCertificate {
  readonly notAfterMs: number;
  /** SHA-256 of the certificate (colon-separated hex, as Node prints it): tells a reissued certificate from the one seen before. */
  readonly fingerprint256: string;
}

/**
 * One TLS handshake through the tunnel with the connection's own material (the install's CA as
 * the only root, the operator's certificate), read for the server certificate it presents:
 * grpc-js keeps the peer's certificate to itself. The certificate is only believed once it
 * verified against the install's CA, as the channel's own handshake does.
 */
export function readServerCertificate(
  port: number,
  material: RuntimeTls,
  serverName: string,
  timeoutMs: number,
): Promise<PresentedCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connectRuntimeTls(port, material, serverName);
    const fail = (detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(
        new ApiError(
          'RUNTIME_CALL_FAILED',
          `The runtime's server certificate could not be read: ${detail}.`,
          'Nothing to do when the link is up: it is read again when the link next comes up.',
        ),
      );
    };
    const timer = setTimeout(() => fail(`no TLS handshake within ${timeoutMs} ms`), timeoutMs);
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      clearTimeout(timer);
      socket.destroy();
      const notAfterMs = Date.parse(peer.valid_to);
      if (!Number.isFinite(notAfterMs) || !peer.fingerprint256) {
        fail('the handshake carried no certificate with a validity');
        return;
      }
      resolve({ notAfterMs, fingerprint256: peer.fingerprint256 });
    });
    socket.once('error', (error) => fail(error.message));
  });
}
