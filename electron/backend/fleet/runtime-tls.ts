import * as grpc from '@grpc/grpc-js';
import tls from 'node:tls';
import { checkCertificateValidity, checkIssuedByCa, checkKeyMatchesCertificate, parseCertificate } from '../pki/check-certificate';

/** What the control center presents to a runtime, and trusts of it. */
export interface RuntimeTls {
  /** The install's CA: the runtime's server certificate must come from it. */
  caCertPem: string;
  /** The operator's client certificate (its role in a SAN URI) and key, issued by the same CA. */
  certPem: string;
  keyPem: string;
}

/** The install's CA as the only root: a certificate from anywhere else is refused. */
export function runtimeChannelCredentials(material: RuntimeTls): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(material.caCertPem), Buffer.from(material.keyPem), Buffer.from(material.certPem));
}

const CLIENT_CERTIFICATE = "operator's client certificate";

/**
 * Throws a PKI_* ApiError when the material cannot work: the CA certificate unreadable or
 * expired, the client certificate not issued by it, expired, or not matching its key.
 */
export function checkRuntimeTls(material: RuntimeTls, now: Date = new Date()): void {
  parseCertificate(material.caCertPem, 'CA certificate');
  checkCertificateValidity(material.caCertPem, 'CA certificate', { now });
  checkCertificateValidity(material.certPem, CLIENT_CERTIFICATE, { now });
  checkIssuedByCa(material.certPem, material.caCertPem, CLIENT_CERTIFICATE);
  checkKeyMatchesCertificate(material.certPem, material.keyPem, CLIENT_CERTIFICATE);
}

/**
 * A plain TLS connection to a runtime through its tunnel (local port), made as the gRPC
 * channel makes its own: the install's CA as the only root, the connection's certificate,
 * the runtime's name, HTTP/2 offered. For what grpc-js keeps to itself: the presented
 * certificate, and why a handshake failed.
 */
export function connectRuntimeTls(port: number, material: RuntimeTls, serverName: string): tls.TLSSocket {
  return tls.connect({
    host: '127.0.0.1',
    port,
    ca: material.caCertPem,
    cert: material.certPem,
    key: material.keyPem,
    servername: serverName,
    ALPNProtocols: ['h2'],
  });
}
