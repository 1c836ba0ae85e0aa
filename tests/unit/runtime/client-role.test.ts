import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseSubjectAltName, roleFromPeerCertificate, roleFromSubjectAltName } from '../../../agents-runtime/src/server/client-role';
import { roleUri } from '../../../agents-runtime/src/wire/roles';

const peer = (subjectaltname: string | undefined): PeerCertificate =>
  ({ raw: Buffer.from([0x30]), subject: { CN: 'alice' }, subjectaltname }) as unknown as PeerCertificate;

describe('parseSubjectAltName', () => {
  it('splits the entries Node writes', () => {
    expect(parseSubjectAltName('DNS:alice.example, URI:urn:sutazai:role:viewer, IP Address:127.0.0.1')).toEqual([
      { type: 'DNS', value: 'alice.example' },
      { type: 'URI', value: 'urn:sutazai:role:viewer' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
  });

  it('does not split inside a quoted value (Node >= 17.3.1 quotes special characters)', () => {
    expect(parseSubjectAltName('URI:"urn:x:a, URI:urn:sutazai:role:admin", URI:urn:sutazai:role:viewer')).toEqual([
      { type: 'URI', value: 'urn:x:a, URI:urn:sutazai:role:admin' },
      { type: 'URI', value: 'urn:sutazai:role:viewer' },
    ]);
  });

  it('gives nothing for an empty string', () => {
    expect(parseSubjectAltName('')).toEqual([]);
  });
});

describe('roleFromSubjectAltName', () => {
  it.each(['viewer', 'operator', 'admin'] as const)('reads the role %s from its SAN URI', (role) => {
    expect(roleFromSubjectAltName(`DNS:alice, URI:${roleUri(role)}`)).toEqual({ ok: true, role });
  });

  it('accepts the same role named twice', () => {
    expect(roleFromSubjectAltName('URI:urn:sutazai:role:operator, URI:urn:sutazai:role:operator')).toEqual({ ok: true, role: 'operator' });
  });

  it('gives no role to a certificate without a role URI', () => {
    expect(roleFromSubjectAltName('DNS:alice, URI:https://example.com/role/admin')).toMatchObject({ ok: false, reason: 'no-role' });
    expect(roleFromSubjectAltName(undefined)).toMatchObject({ ok: false, reason: 'no-role' });
  });

  it('gives no role for an unknown role name, even next to a known one', () => {
    expect(roleFromSubjectAltName('URI:urn:sutazai:role:root')).toMatchObject({ ok: false, reason: 'unknown-role' });
    expect(roleFromSubjectAltName('URI:urn:sutazai:role:viewer, URI:urn:sutazai:role:Admin')).toMatchObject({
      ok: false,
      reason: 'unknown-role',
    });
  });

  it('gives no role when two different roles are named: ambiguity grants nothing', () => {
    expect(roleFromSubjectAltName('URI:urn:sutazai:role:viewer, URI:urn:sutazai:role:admin')).toMatchObject({
      ok: false,
      reason: 'conflicting-roles',
    });
  });

  it('does not take a role from a quoted value that only contains the text', () => {
    expect(roleFromSubjectAltName('URI:"urn:x:a, URI:urn:sutazai:role:admin"')).toMatchObject({ ok: false, reason: 'no-role' });
  });

  it('does not read a role from the subject (CN or OU)', () => {
    expect(roleFromSubjectAltName('DNS:urn:sutazai:role:admin')).toMatchObject({ ok: false, reason: 'no-role' });
  });
});

describe('roleFromPeerCertificate', () => {
  it('reports no certificate for the empty object Node gives when the peer sent none', () => {
    expect(roleFromPeerCertificate({} as PeerCertificate)).toMatchObject({ ok: false, reason: 'no-certificate' });
    expect(roleFromPeerCertificate(undefined)).toMatchObject({ ok: false, reason: 'no-certificate' });
  });

  it('reads the role of a presented certificate', () => {
    expect(roleFromPeerCertificate(peer('URI:urn:sutazai:role:admin'))).toEqual({ ok: true, role: 'admin' });
    expect(roleFromPeerCertificate(peer(undefined))).toMatchObject({ ok: false, reason: 'no-role' });
  });
});
