import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { ApiError, LOCAL_AUDIT_METHODS, type LocalAuditMethod } from '../../contract';
import { createAuditLog } from '../audit/audit-log';
import { localUser } from '../audit/local-user';
import { vaultLockedError } from '../fleet/install-runtime-access';
import { issueServerCertificate } from '../pki/issue-certificate';
import { caKeyMissingError } from '../pki/pki-errors';
import { unsealCaKey } from '../pki/seal-ca-key';
import { createSecretVault, type VaultKeySource } from '../secrets/secret-vault';
import { createInstallsRepo } from '../store/installs-repo';
import { openExistingStore } from '../store/open-existing-store';

/** Issued again at every start: a short life costs nothing, and a copied key is of use for a month at most. */
export const WEB_CERTIFICATE_DAYS = 30;

export interface InstallWebCertificate {
  certPem: string;
  keyPem: string;
  /** The install CA's certificate, written where browsers' trust stores can be given it. */
  caFile: string;
  /** Its SHA-256 fingerprint (AA:BB:...), to compare with what a browser shows. */
  caFingerprint: string;
}

/**
 * Web mode for a team with a certificate from an install's CA (`--tls-from-install NAME`),
 * for a site whose browsers already trust that CA (or are given it once) and that has no
 * certificate of its own: a server certificate naming the --name values (and the listen
 * address when it is one), issued at start from the CA key sealed in the vault, held in
 * memory only. The CA's certificate (public) is written to `<data dir>/web-ca/NAME.crt`.
 */
export async function issueWebCertificateFromInstall(input: {
  dataDir: string;
  install: string;
  names: readonly string[];
  listen: string | undefined;
  vaultKey: VaultKeySource | undefined;
}): Promise<InstallWebCertificate> {
  if (input.names.length === 0)
    throw new ApiError(
      'WEB_TLS_REQUIRED',
      '--tls-from-install needs the names browsers use to reach this server.',
      'Give --name NAME for each (a DNS name or an address), for example --name control.example.org.',
    );
  // Only an existing control center: a mistyped --data-dir must not get a fresh, empty store.
  const store = openExistingStore(
    input.dataDir,
    '--tls-from-install',
    'Give the data directory of the control center that made the install: --data-dir DIR (the folder that holds sutazai.db).',
  );
  try {
    const install = createInstallsRepo(store.db).findByName(input.install);
    if (install === null)
      throw new ApiError(
        'NOT_FOUND',
        `There is no install named "${input.install}" for --tls-from-install.`,
        'Give the name of an install this control center made (`sutazai status` lists them), or give --tls-cert and --tls-key.',
      );
    const vault = createSecretVault(store.db);
    if (input.vaultKey !== undefined) vault.unlock(input.vaultKey);
    if (!vault.unlocked) throw vaultLockedError(`Issuing web mode's certificate from the CA of ${install.name}`);
    if (install.caKeySecretId === null) throw caKeyMissingError(install.name);
    const ca = unsealCaKey(vault, install.caKeySecretId, install.name, install.caCert);
    const names = [...input.names];
    if (input.listen !== undefined && isIP(input.listen) !== 0 && !isWildcard(input.listen)) names.push(input.listen);
    const [first, ...rest] = names;
    const issued = await issueServerCertificate(ca, {
      hostName: first!,
      dnsNames: rest.filter((name) => isIP(name) === 0),
      ipAddresses: rest.filter((name) => isIP(name) !== 0),
      validityDays: WEB_CERTIFICATE_DAYS,
    });
    // Each start issues a server certificate the install's CA vouches for: recorded, as every
    // other certificate the control center issues, with who started it (no operator signs in
    // to a start: the local account that could read the vault's key).
    const certificate = new X509Certificate(issued.certPem);
    createAuditLog(store.db).append({
      atMs: Date.now(),
      operator: null,
      actor: `web mode started by ${localUser()}`,
      peer: 'local',
      action: LOCAL_AUDIT_METHODS['web.certificateIssue'].action,
      method: 'web.certificateIssue' satisfies LocalAuditMethod,
      target: `install ${install.name}: web server certificate ${certificate.serialNumber.toLowerCase()} for ${certificate.subjectAltName ?? names.join(', ')}, until ${new Date(certificate.validTo).toISOString()}`,
      outcome: 'ok',
    });
    const folder = path.join(input.dataDir, 'web-ca');
    fs.mkdirSync(folder, { recursive: true, mode: 0o755 });
    const caFile = path.join(folder, `${install.name}.crt`);
    fs.writeFileSync(caFile, ca.certPem, { mode: 0o644 });
    return { certPem: issued.certPem, keyPem: issued.keyPem, caFile, caFingerprint: fingerprintOf(ca.certPem) };
  } finally {
    store.close();
  }
}

function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function fingerprintOf(pem: string): string {
  const der = new X509Certificate(pem).raw;
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}
