import type { JsonGeneralName } from '@peculiar/x509';
import { isIP } from 'node:net';
import { CONTROL_CENTER_URI, isRole, operatorUri, roleUri, ROLES, type Role } from '../../../agents-runtime/src/wire';
import { checkCertificateValidity, checkKeyMatchesCertificate, parseCertificate, subjectOf } from './check-certificate';
import { checkCommonName, checkDnsName, checkIpAddress, isDnsName } from './certificate-names';
import { BACKDATE_MS, type InstallCa } from './install-ca';
import { loadX509 } from './load-x509';
import { nameInvalidError, notACaError } from './pki-errors';
import { randomSerialNumber } from './serial-number';
import { SIGNING_ALGORITHM, generateKeyPair, importSigningKey, privateKeyToPem } from './signing-keys';

/**
 * Certificates the install's CA issues: one server certificate per runtime host, one
 * client certificate per operator with the operator's role. Each gets a fresh key pair;
 * the private key is returned once, with its certificate, for the caller to ship or seal.
 */
export interface IssuedCertificate {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

export interface ServerCertificateOptions {
  /** The host's name in the inventory: the subject's commonName (and a DNS name when it is one). */
  hostName: string;
  /** Further names the runtime is reached by. */
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  validityDays?: number;
  now?: Date;
}

export interface ClientCertificateOptions {
  operatorName: string;
  role: Role;
  /**
   * The control center's own certificate (its links' shared channel): named by the
   * control-center URI instead of an operator's, so a runtime with `jwt` knows whose calls
   * come without a token.
   */
  controlCenter?: boolean;
  validityDays?: number;
  now?: Date;
}

export const DEFAULT_LEAF_VALIDITY_DAYS = 365;
/**
 * Every runtime is reached through an SSH tunnel to its loopback port, so the name TLS
 * checks at the end of the tunnel is the loopback one, whatever the host is called.
 */
export const LOOPBACK_DNS_NAME = 'localhost';
export const LOOPBACK_IP_ADDRESS = '127.0.0.1';
const DAY_MS = 24 * 3600_000;

export async function issueServerCertificate(ca: InstallCa, options: ServerCertificateOptions): Promise<IssuedCertificate> {
  const hostName = checkCommonName('host name', options.hostName);
  const dnsNames = new Set<string>([LOOPBACK_DNS_NAME]);
  const ipAddresses = new Set<string>([LOOPBACK_IP_ADDRESS]);
  if (isDnsName(hostName)) dnsNames.add(hostName.toLowerCase());
  if (isIP(hostName) !== 0) ipAddresses.add(hostName);
  for (const name of options.dnsNames ?? []) dnsNames.add(checkDnsName(name));
  for (const address of options.ipAddresses ?? []) ipAddresses.add(checkIpAddress(address));
  const altNames: JsonGeneralName[] = [
    ...[...dnsNames].map((value) => ({ type: 'dns' as const, value })),
    ...[...ipAddresses].map((value) => ({ type: 'ip' as const, value })),
  ];
  return issueLeaf(ca, {
    commonName: hostName,
    usage: 'serverAuth',
    altNames,
    validityDays: options.validityDays,
    now: options.now,
  });
}

export async function issueClientCertificate(ca: InstallCa, options: ClientCertificateOptions): Promise<IssuedCertificate> {
  const operatorName = checkCommonName('operator name', options.operatorName);
  if (!isRole(options.role)) throw nameInvalidError('role', String(options.role), `the roles are ${ROLES.join(', ')}`);
  return issueLeaf(ca, {
    commonName: operatorName,
    usage: 'clientAuth',
    // The runtime reads the caller's role and who it is from these URIs (agents-runtime
    // client-role.ts, caller-identity.ts).
    altNames: [
      { type: 'url', value: roleUri(options.role) },
      { type: 'url', value: options.controlCenter === true ? CONTROL_CENTER_URI : operatorUri(operatorName) },
    ],
    validityDays: options.validityDays,
    now: options.now,
  });
}

/** The name the control center's own client certificates carry (their subject's common name). */
export const CONTROL_CENTER_NAME = 'sutazai-control-center';

/**
 * The control center's own client certificate (its links, the install engine's calls): named
 * by the control-center URI, never as an operator, so a runtime that knows the operators
 * does not refuse it as an unknown one. Every such certificate comes from here.
 */
export function issueControlCenterCertificate(
  ca: InstallCa,
  options: Pick<ClientCertificateOptions, 'role' | 'validityDays' | 'now'>,
): Promise<IssuedCertificate> {
  return issueClientCertificate(ca, { ...options, operatorName: CONTROL_CENTER_NAME, controlCenter: true });
}

interface LeafRequest {
  commonName: string;
  /** The extended key usage (ExtendedKeyUsage's member of that name). */
  usage: 'serverAuth' | 'clientAuth';
  altNames: JsonGeneralName[];
  validityDays: number | undefined;
  now: Date | undefined;
}

async function issueLeaf(ca: InstallCa, request: LeafRequest): Promise<IssuedCertificate> {
  const now = request.now ?? new Date();
  // A CA that cannot sign today, or a key that is not its own, fails here with a remedy
  // rather than yielding a certificate nothing will accept.
  const caNode = parseCertificate(ca.certPem, 'CA certificate');
  if (!caNode.ca) throw notACaError(subjectOf(caNode));
  checkCertificateValidity(ca.certPem, 'CA certificate', { now });
  checkKeyMatchesCertificate(ca.certPem, ca.keyPem, 'CA certificate');

  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKeyUsage = caCert.getExtension(x509.KeyUsagesExtension);
  if (caKeyUsage !== null && (caKeyUsage.usages & x509.KeyUsageFlags.keyCertSign) === 0) throw notACaError(subjectOf(caNode));
  const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;

  const keys = await generateKeyPair();
  const validityMs = (request.validityDays ?? DEFAULT_LEAF_VALIDITY_DAYS) * DAY_MS;
  // A leaf never outlives its CA: past that the chain fails anyway, and the date would lie.
  const notAfter = Math.min(now.getTime() + validityMs, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialNumber(),
    subject: [{ CN: [request.commonName] }, { O: ['SutazAI'] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(notAfter),
    signingAlgorithm: SIGNING_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(ca.keyPem),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[request.usage]]),
      new x509.SubjectAlternativeNameExtension(request.altNames),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      caKeyId !== undefined
        ? new x509.AuthorityKeyIdentifierExtension(caKeyId)
        : await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}
