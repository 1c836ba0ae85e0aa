import { connectRuntimeTls, type RuntimeTls } from './runtime-tls';

/**
 * Why TLS to a runtime fails, found by one plain TLS handshake through the tunnel after
 * a call failed. grpc-js reports a refused client certificate as "Failed to connect",
 * like a dead link; a handshake of our own tells them apart:
 *
 * - our side refuses the server's certificate: the handshake fails with OpenSSL's reason;
 * - the runtime refuses ours: the handshake completes (TLS 1.3 checks the client's
 *   certificate after the client is done) and the runtime hangs up without a byte,
 *   where a gRPC server always sends its HTTP/2 SETTINGS at once;
 * - it answers: TLS is fine, and the call failed for another reason.
 */
export type TlsDiagnosis =
  | { kind: 'server-certificate-refused'; detail: string }
  | { kind: 'client-certificate-refused' }
  | { kind: 'answered' }
  | { kind: 'no-handshake'; detail: string };

export function diagnoseRuntimeTls(port: number, material: RuntimeTls, serverName: string, timeoutMs: number): Promise<TlsDiagnosis> {
  return new Promise((resolve) => {
    let handshaken = false;
    let settled = false;
    const finish = (diagnosis: TlsDiagnosis): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(diagnosis);
    };
    const socket = connectRuntimeTls(port, material, serverName);
    const timer = setTimeout(
      () => finish(handshaken ? { kind: 'answered' } : { kind: 'no-handshake', detail: `no TLS handshake within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('secureConnect', () => {
      handshaken = true;
    });
    socket.once('data', () => finish({ kind: 'answered' }));
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (handshaken) finish({ kind: 'client-certificate-refused' });
      else if (/CERT|SELF_SIGNED|ALTNAME|UNABLE_TO|SIGNATURE|ISSUER/.test(error.code ?? ''))
        finish({ kind: 'server-certificate-refused', detail: error.message });
      else finish({ kind: 'no-handshake', detail: error.message });
    });
    socket.once('close', () =>
      finish(
        handshaken
          ? { kind: 'client-certificate-refused' }
          : { kind: 'no-handshake', detail: 'the connection closed before the TLS handshake' },
      ),
    );
  });
}
