import { z } from 'zod';
import { InstallNameSchema } from './installs';
import { OperatorNameSchema, RoleSchema } from './operators';

/**
 * Operators' own credentials for an install's runtimes (issue 14 item 2): client
 * certificates from the install's CA (authentication_method: mtls), and the rotation of the
 * install's token key (jwt). Each change reaches every linked runtime with the next push,
 * made at once.
 */

/** A certificate serial: hex (colons and case as any tool prints them). */
export const CertificateSerialSchema = z
  .string()
  .regex(/^[0-9A-Fa-f:]{1,128}$/, 'a certificate serial is hexadecimal (colons allowed), as `openssl x509 -serial` prints it');

/** An operator's certificate as recorded (its key is never kept). */
export const OperatorCertificateSchema = z.object({
  install: InstallNameSchema,
  operator: OperatorNameSchema,
  /** Lower-case hex without leading zeros. */
  serial: z.string(),
  role: RoleSchema,
  issuedAt: z.number().int(),
  notAfter: z.number().int(),
  revokedAt: z.number().int().nullable(),
});
export type OperatorCertificate = z.infer<typeof OperatorCertificateSchema>;

/** The default and the longest life of an operator's certificate: short, so a lost one ends soon even unrevoked. */
export const OPERATOR_CERTIFICATE_DEFAULT_HOURS = 24;
export const OPERATOR_CERTIFICATE_MAX_HOURS = 30 * 24;

export const runtimeCredentialMethods = {
  /**
   * A client certificate of the install's CA naming the operator and their role
   * (urn:sutazai:operator:NAME beside the role URI), with a new private key returned this
   * once: the control center keeps the serial, never the key.
   */
  'operators.certificateIssue': {
    params: z
      .object({
        name: OperatorNameSchema,
        install: InstallNameSchema,
        validityHours: z.number().int().min(1).max(OPERATOR_CERTIFICATE_MAX_HOURS).optional(),
      })
      .strict(),
    result: OperatorCertificateSchema.extend({ certPem: z.string(), keyPem: z.string(), caCertPem: z.string() }),
  },
  /** Every operator's certificates, or one operator's, newest first. */
  'operators.certificates': {
    params: z.object({ name: OperatorNameSchema.optional() }).strict(),
    result: z.array(OperatorCertificateSchema),
  },
  /**
   * Revokes one certificate by serial, or all of an operator's; the install's runtimes are pushed the revocation at once.
   * `revoked` is what this call revoked; a serial revoked before comes back in `alreadyRevoked` (its time kept, nothing pushed).
   */
  'operators.certificateRevoke': {
    params: z.union([
      z.object({ serial: CertificateSerialSchema }).strict(),
      z.object({ name: OperatorNameSchema, all: z.literal(true) }).strict(),
    ]),
    result: z.object({ revoked: z.array(OperatorCertificateSchema), alreadyRevoked: z.array(OperatorCertificateSchema) }),
  },
  /**
   * A new token key for the install; the old one is retired at once (no grace: every token is
   * signed for one call just before it), so its tokens are refused from the next push, made at once.
   */
  'access.rotateKey': {
    params: z.object({ install: InstallNameSchema }).strict(),
    result: z.object({ install: InstallNameSchema, keyId: z.string(), retired: z.number().int().nonnegative() }),
  },
} as const;
