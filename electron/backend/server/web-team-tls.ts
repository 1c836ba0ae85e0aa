import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ApiError } from '../../contract';

/** What `npm run web` was asked for beyond loopback (electron/backend/entry/web.ts's flags). */
export interface WebTeamFlags {
  listen?: string | undefined;
  names?: readonly string[] | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** A certificate and key issued at start (--tls-from-install, web-install-tls.ts), instead of the two files; `source` names it in refusals. */
  tlsPem?: { cert: string; key: string; source: string } | undefined;
}

export interface WebTeamTls {
  listen: string;
  names: string[];
  tls: { cert: Buffer; key: Buffer };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Loopback with the launch token (null) or a team behind TLS. Listening beyond loopback
 * without a certificate is refused (WEB_TLS_REQUIRED): passwords and session cookies would
 * cross the network in the clear. The certificate (from the site, or issued from an
 * install's CA) must match its key and name every name browsers are to use; without --name,
 * the names it carries are used.
 */
export function webTeamTls(flags: WebTeamFlags): WebTeamTls | null {
  const { tlsCert, tlsKey, tlsPem } = flags;
  if (tlsPem !== undefined && (tlsCert !== undefined || tlsKey !== undefined))
    throw tlsRequired(
      `${tlsPem.source} and --tls-cert/--tls-key were both given.`,
      "Give one: the site's certificate files, or --tls-from-install NAME for one issued from that install's CA.",
    );
  if (tlsPem === undefined && tlsCert === undefined && tlsKey === undefined) {
    if (flags.listen === undefined || LOOPBACK.has(flags.listen)) return null;
    throw tlsRequired(
      `Web mode would listen on ${flags.listen} without TLS: passwords and sessions would cross the network in the clear.`,
      'Give --tls-cert FILE and --tls-key FILE (a certificate for the names browsers use), or leave --listen out to stay on 127.0.0.1.',
    );
  }
  if (tlsPem === undefined && (tlsCert === undefined || tlsKey === undefined))
    throw tlsRequired('Only one of --tls-cert and --tls-key was given.', 'Give both: the certificate (PEM) and its private key (PEM).');
  const cert = tlsPem ? Buffer.from(tlsPem.cert) : readPem(tlsCert!, '--tls-cert');
  const key = tlsPem ? Buffer.from(tlsPem.key) : readPem(tlsKey!, '--tls-key');
  // Where refusals say the certificate and key came from.
  const certFrom = tlsPem?.source ?? tlsCert!;
  const keyFrom = tlsPem?.source ?? tlsKey!;
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw tlsRequired(`${certFrom} holds no PEM certificate.`, 'Give the certificate file in PEM (-----BEGIN CERTIFICATE-----).');
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch {
    throw tlsRequired(`${keyFrom} holds no PEM private key.`, 'Give the private key file in PEM (-----BEGIN PRIVATE KEY-----).');
  }
  if (!matches)
    throw tlsRequired(`The key in ${keyFrom} is not the certificate's.`, 'Give the private key the certificate was issued for.');
  if (Date.parse(x509.validTo) <= Date.now())
    throw tlsRequired(`The certificate in ${certFrom} expired on ${x509.validTo}.`, 'Give a certificate that is valid now.');
  // The first name is the one printed for people to open: a loopback name only when it is all there is.
  const names =
    flags.names && flags.names.length > 0 ? [...flags.names] : namesOf(x509).sort((a, b) => +LOOPBACK.has(a) - +LOOPBACK.has(b));
  if (names.length === 0)
    throw tlsRequired(
      `The certificate in ${certFrom} names no host (no subjectAltName).`,
      'Give --name NAME for each name browsers use, with a certificate that names them.',
    );
  const unnamed = names.filter((name) => (isIP(name) ? x509.checkIP(name) : x509.checkHost(name)) === undefined);
  if (unnamed.length > 0)
    throw tlsRequired(
      `The certificate in ${certFrom} does not name ${unnamed.join(', ')}: browsers would refuse it there.`,
      'Give a certificate whose subjectAltName holds every --name, or name only those it holds.',
    );
  return { listen: flags.listen ?? '0.0.0.0', names, tls: { cert, key } };
}

/** The DNS names and IP addresses of a certificate's subjectAltName. */
function namesOf(x509: X509Certificate): string[] {
  return (x509.subjectAltName ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .flatMap((entry) => {
      if (entry.startsWith('DNS:') && !entry.includes('*')) return [entry.slice(4)];
      if (entry.startsWith('IP Address:')) return [entry.slice(11)];
      return [];
    });
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw tlsRequired(`${flag} ${file} cannot be read (${(error as NodeJS.ErrnoException).code}).`, `Give a readable PEM file to ${flag}.`);
  }
}

function tlsRequired(message: string, remedy: string): ApiError {
  return new ApiError('WEB_TLS_REQUIRED', message, remedy);
}
