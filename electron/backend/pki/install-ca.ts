import { checkCommonName } from './certificate-names';
import { loadX509 } from './load-x509';
import { nameInvalidError } from './pki-errors';
import { randomSerialNumber } from './serial-number';
import { SIGNING_ALGORITHM, generateKeyPair, privateKeyToPem } from './signing-keys';

/**
 * The install's own certificate authority: it issues every runtime's server certificate
 * and every operator's client certificate, and nothing else trusts it. Its key is kept
 * only sealed (seal-ca-key.ts).
 */
export interface InstallCa {
  certPem: string;
  /** PKCS#8 PEM. Seal it before it is stored anywhere. */
  keyPem: string;
}

export interface CreateInstallCaOptions {
  /** Names the CA in its subject: `SutazAI CA <installName>`. */
  installName: string;
  /** Default 10 years: renewing a CA means reissuing every certificate under it. */
  validityDays?: number;
  now?: Date;
}

export const DEFAULT_CA_VALIDITY_DAYS = 3650;
// Managed machines' clocks may lag the operator's by a few minutes; a certificate that is
// "not yet valid" there would fail every handshake until they catch up.
export const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 24 * 3600_000;
const MAX_INSTALL_NAME = 50;

export async function createInstallCa(options: CreateInstallCaOptions): Promise<InstallCa> {
  const installName = checkCommonName('install name', options.installName);
  // The subject adds 11 characters, and a commonName holds at most 64.
  if (installName.length > MAX_INSTALL_NAME)
    throw nameInvalidError('install name', installName, `it is longer than ${MAX_INSTALL_NAME} characters`);
  const validityDays = options.validityDays ?? DEFAULT_CA_VALIDITY_DAYS;
  const now = (options.now ?? new Date()).getTime();
  const [x509, keys] = await Promise.all([loadX509(), generateKeyPair()]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialNumber(),
    name: [{ CN: [`SutazAI CA ${installName}`] }, { O: ['SutazAI'] }],
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: new Date(now + validityDays * DAY_MS),
    signingAlgorithm: SIGNING_ALGORITHM,
    keys,
    extensions: [
      // pathLen 0: it signs end-entity certificates only, never another CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyToPem(keys.privateKey) };
}
