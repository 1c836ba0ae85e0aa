import { X509Certificate } from 'node:crypto';
import { OPERATOR_CERTIFICATE_DEFAULT_HOURS, type Operator, type OperatorCertificate } from '../../../contract';
import { issueClientCertificate } from '../../pki/issue-certificate';
import { caKeyMissingError } from '../../pki/pki-errors';
import { unsealCaKey } from '../../pki/seal-ca-key';
import type { SecretVault } from '../../secrets/secret-vault';
import type { InstallRow, InstallsRepo } from '../../store/installs-repo';
import { normalizeSerial } from '../../../../agents-runtime/src/wire';
import { vaultLockedError } from '../install-runtime-access';
import { installMissingError, operatorGoneError, serialMissingError } from './credential-errors';
import type { RuntimeCredentials } from './runtime-credentials';
import type { OperatorCertificateRow, RuntimeCredentialsRepo } from './runtime-credentials-repo';

/**
 * Operators' own client certificates for an install's runtimes (authentication_method:
 * mtls, issue 14 item 2): issued by the install's CA naming the operator and their role,
 * with a key made for it and handed back once (the control center keeps the serial, never
 * the key); listed; revoked by serial or all of an operator's, and the revocation pushed to
 * the install's linked runtimes at once (RuntimeCredentials.changed). Removing or disabling
 * an operator revokes theirs (operator-service.ts revokeCredentials).
 */
export interface OperatorCertificates {
  issue(input: { name: string; install: string; validityHours?: number }): Promise<IssuedOperatorCertificate>;
  list(name?: string): OperatorCertificate[];
  /**
   * `revoked`: what this call revoked; `alreadyRevoked`: the serial asked, when it was revoked
   * before (nothing changes, nothing is pushed; its first revocation time is kept).
   */
  revoke(input: { serial: string } | { name: string; all: true }): {
    revoked: OperatorCertificate[];
    alreadyRevoked: OperatorCertificate[];
  };
}

export type IssuedOperatorCertificate = OperatorCertificate & { certPem: string; keyPem: string; caCertPem: string };

export interface OperatorCertificatesDeps {
  repo: RuntimeCredentialsRepo;
  vault: SecretVault;
  installs: Pick<InstallsRepo, 'findByName' | 'get'>;
  /** The operator named, as now (OPERATOR_NOT_FOUND when there is none). */
  operator(name: string): Operator;
  credentials: Pick<RuntimeCredentials, 'changed'>;
  now(): number;
}

export function createOperatorCertificates(deps: OperatorCertificatesDeps): OperatorCertificates {
  const installNames = new Map<number, string>();
  const installName = (installId: number): string => {
    let name = installNames.get(installId);
    if (name === undefined) {
      name = deps.installs.get(installId)?.name ?? `#${installId}`;
      installNames.set(installId, name);
    }
    return name;
  };
  const toEntry = (row: OperatorCertificateRow): OperatorCertificate => ({
    install: installName(row.installId),
    operator: row.operatorName,
    serial: row.serial,
    role: row.role as OperatorCertificate['role'],
    issuedAt: row.issuedAt,
    notAfter: row.notAfter,
    revokedAt: row.revokedAt,
  });
  const findInstall = (name: string): InstallRow => {
    const install = deps.installs.findByName(name);
    if (!install) throw installMissingError(name);
    return install;
  };

  return {
    async issue({ name, install: installNameAsked, validityHours }) {
      const operator = deps.operator(name);
      if (operator.disabled) throw operatorGoneError(operator.name);
      const install = findInstall(installNameAsked);
      if (!deps.vault.unlocked) throw vaultLockedError(`A certificate for ${operator.name} on ${install.name}`, 'Then try again.');
      if (install.caKeySecretId === null) throw caKeyMissingError(install.name);
      const ca = unsealCaKey(deps.vault, install.caKeySecretId, install.name, install.caCert);
      const issuedAt = deps.now();
      const issued = await issueClientCertificate(ca, {
        operatorName: operator.name,
        role: operator.role,
        validityDays: (validityHours ?? OPERATOR_CERTIFICATE_DEFAULT_HOURS) / 24,
        now: new Date(issuedAt),
      });
      const x509 = new X509Certificate(issued.certPem);
      const row: OperatorCertificateRow = {
        installId: install.id,
        operatorName: operator.name,
        serial: normalizeSerial(x509.serialNumber),
        role: operator.role,
        issuedAt,
        notAfter: Date.parse(x509.validTo),
        revokedAt: null,
      };
      deps.repo.recordCertificate(row);
      return { ...toEntry(row), certPem: issued.certPem, keyPem: issued.keyPem, caCertPem: ca.certPem };
    },
    list: (name) => deps.repo.certificates(name).map(toEntry),
    revoke(input) {
      const now = deps.now();
      let revoked: OperatorCertificateRow[];
      const alreadyRevoked: OperatorCertificateRow[] = [];
      if ('serial' in input) {
        const serial = normalizeSerial(input.serial);
        const found = deps.repo.revokeSerial(serial, now);
        if (found === null) throw serialMissingError(input.serial);
        revoked = found.revokedNow ? [found.certificate] : [];
        if (!found.revokedNow) alreadyRevoked.push(found.certificate);
      } else {
        const operator = deps.operator(input.name);
        const before = new Set(
          deps.repo
            .certificates(operator.name)
            .filter((c) => c.revokedAt === null)
            .map((c) => c.serial),
        );
        deps.repo.revokeCertificatesOf(operator.name, now);
        revoked = deps.repo.certificates(operator.name).filter((c) => before.has(c.serial));
      }
      // Every linked runtime of the install is pushed the new revocation list now, not at its link's next check.
      if (revoked.length > 0) deps.credentials.changed();
      return { revoked: revoked.map(toEntry), alreadyRevoked: alreadyRevoked.map(toEntry) };
    },
  };
}
