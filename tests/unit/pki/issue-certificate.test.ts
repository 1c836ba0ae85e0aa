import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { roleFromSubjectAltName } from '../../../agents-runtime/src/server/client-role';
import { operatorFromUri } from '../../../agents-runtime/src/wire';
import { createInstallCa, type InstallCa } from '../../../electron/backend/pki/install-ca';
import {
  issueClientCertificate,
  issueControlCenterCertificate,
  issueServerCertificate,
} from '../../../electron/backend/pki/issue-certificate';
import { opensslText, opensslVerify } from '../../support/openssl-cli';

const NOW = new Date('2026-05-03T12:00:00Z');
const DAY_MS = 24 * 3600_000;
let ca: InstallCa;
let otherCa: InstallCa;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([
    createInstallCa({ installName: 'plant-7', now: NOW }),
    createInstallCa({ installName: 'plant-7', now: NOW }),
  ]);
});

/** The extensions every leaf carries: not a CA, signatures only, one purpose, tied to the CA's key id. */
function expectLeafOf(certPem: string, purpose: x509.ExtendedKeyUsage): void {
  const leaf = new x509.X509Certificate(certPem);
  const caKeyId = new x509.X509Certificate(ca.certPem).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  expect(leaf.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: false, critical: true });
  expect(leaf.getExtension(x509.KeyUsagesExtension)).toMatchObject({ usages: x509.KeyUsageFlags.digitalSignature, critical: true });
  expect(leaf.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([purpose]);
  expect(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(caKeyId);
  expect(leaf.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
}

describe('server certificates', () => {
  it('name the host, the names and addresses given, and always localhost and 127.0.0.1', async () => {
    const server = await issueServerCertificate(ca, {
      hostName: 'DB-1',
      dnsNames: ['db-1.plant.example'],
      ipAddresses: ['198.18.0.5', 'fd00::5'],
      validityDays: 90,
      now: NOW,
    });
    const cert = new X509Certificate(server.certPem);
    expect(cert.subject).toBe('CN=DB-1\nO=SutazAI');
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, DNS:db-1, DNS:db-1.plant.example, IP Address:127.0.0.1, IP Address:198.18.0.5, IP Address:FD00:0:0:0:0:0:0:5',
    );
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(server.keyPem))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(false);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkHost('db-1.plant.example')).toBe('db-1.plant.example');
    expect(Date.parse(cert.validTo) - NOW.getTime()).toBe(90 * DAY_MS);
    expectLeafOf(server.certPem, x509.ExtendedKeyUsage.serverAuth);
  });

  it('puts a host name that is neither a DNS name nor an address in the subject only', async () => {
    const server = await issueServerCertificate(ca, { hostName: 'GPU box #2', now: NOW });
    const cert = new X509Certificate(server.certPem);
    expect(cert.subject).toBe('CN=GPU box #2\nO=SutazAI');
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    const byAddress = new X509Certificate((await issueServerCertificate(ca, { hostName: '198.18.0.9', now: NOW })).certPem);
    expect(byAddress.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:198.18.0.9');
  });

  it('is accepted by openssl verify for TLS servers, and not by another CA of the same name', async () => {
    const server = await issueServerCertificate(ca, { hostName: 'db-1', ipAddresses: ['198.18.0.5'] });
    expect(opensslVerify(ca.certPem, server.certPem, 'sslserver')).toMatchObject({ ok: true });
    const refused = opensslVerify(otherCa.certPem, server.certPem, 'sslserver');
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/signature failure|unable to get local issuer|certificate signature/i);
    expect(opensslVerify(ca.certPem, server.certPem, 'sslclient').ok).toBe(false);
  });

  it('refuses a name or address that cannot go into a certificate', async () => {
    await expect(issueServerCertificate(ca, { hostName: 'db-1', dnsNames: ['bad_name.example'] })).rejects.toMatchObject({
      code: 'PKI_NAME_INVALID',
      message: expect.stringContaining('bad_name.example'),
    });
    await expect(issueServerCertificate(ca, { hostName: 'db-1', ipAddresses: ['198.18.0.300'] })).rejects.toMatchObject({
      code: 'PKI_NAME_INVALID',
      message: expect.stringContaining('198.18.0.300'),
    });
    await expect(issueServerCertificate(ca, { hostName: '' })).rejects.toMatchObject({ code: 'PKI_NAME_INVALID' });
  });

  it('never outlives its CA', async () => {
    const shortCa = await createInstallCa({ installName: 'short', validityDays: 10, now: NOW });
    const server = await issueServerCertificate(shortCa, { hostName: 'db-1', validityDays: 365, now: NOW });
    expect(new X509Certificate(server.certPem).validTo).toBe(new X509Certificate(shortCa.certPem).validTo);
  });
});

describe('client certificates', () => {
  it('carry the role as urn:sutazai:role:<role> and the operator as urn:sutazai:operator:<name>, which the runtime reads back', async () => {
    for (const role of ['viewer', 'operator', 'admin'] as const) {
      const client = await issueClientCertificate(ca, { operatorName: 'Alice Example', role, now: NOW });
      const cert = new X509Certificate(client.certPem);
      expect(cert.subject).toBe('CN=Alice Example\nO=SutazAI');
      expect(cert.subjectAltName).toBe(`URI:urn:sutazai:role:${role}, URI:urn:sutazai:operator:Alice%20Example`);
      expect(operatorFromUri('urn:sutazai:operator:Alice%20Example')).toBe('Alice Example');
      expect(roleFromSubjectAltName(cert.subjectAltName)).toEqual({ ok: true, role });
      expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
      expect(cert.checkPrivateKey(createPrivateKey(client.keyPem))).toBe(true);
      expectLeafOf(client.certPem, x509.ExtendedKeyUsage.clientAuth);
    }
  });

  it("name the control center by its own URI instead of an operator's", async () => {
    const client = await issueControlCenterCertificate(ca, { role: 'admin' });
    const cert = new X509Certificate(client.certPem);
    expect(cert.subjectAltName).toBe('URI:urn:sutazai:role:admin, URI:urn:sutazai:control-center');
    expect(cert.subject).toBe('CN=sutazai-control-center\nO=SutazAI');
  });

  it('are accepted by openssl verify for TLS clients, and openssl shows the role URI', async () => {
    const client = await issueClientCertificate(ca, { operatorName: 'alice', role: 'admin' });
    expect(opensslVerify(ca.certPem, client.certPem, 'sslclient')).toMatchObject({ ok: true });
    expect(opensslVerify(ca.certPem, client.certPem, 'sslserver').ok).toBe(false);
    const text = opensslText(client.certPem);
    expect(text).toMatch(/Subject Alternative Name:\s+URI:urn:sutazai:role:admin/);
    expect(text).toContain('TLS Web Client Authentication');
  });

  it('refuse an unknown role', async () => {
    await expect(issueClientCertificate(ca, { operatorName: 'alice', role: 'root' as 'admin' })).rejects.toMatchObject({
      code: 'PKI_NAME_INVALID',
      message: expect.stringContaining('root'),
    });
  });
});

describe('the CA that issues', () => {
  it('must be unexpired on the day it signs', async () => {
    const later = new Date(NOW.getTime() + 3651 * DAY_MS);
    await expect(issueClientCertificate(ca, { operatorName: 'alice', role: 'viewer', now: later })).rejects.toMatchObject({
      code: 'PKI_CERT_EXPIRED',
      message: expect.stringContaining('CA certificate'),
    });
  });

  it('must hold its own key', async () => {
    await expect(issueServerCertificate({ certPem: ca.certPem, keyPem: otherCa.keyPem }, { hostName: 'db-1' })).rejects.toMatchObject({
      code: 'PKI_KEY_MISMATCH',
    });
  });

  it('must be a CA', async () => {
    const leaf = await issueServerCertificate(ca, { hostName: 'db-1' });
    await expect(issueClientCertificate(leaf, { operatorName: 'alice', role: 'admin' })).rejects.toMatchObject({
      code: 'PKI_CERT_INVALID',
      message: expect.stringContaining('not a certificate authority'),
    });
  });
});
