/**
 * TLS material for the runtime API tests, made with the `openssl` CLI in a temp dir:
 * the install's CA, a server certificate for 127.0.0.1, client certificates carrying each
 * role (SAN URI urn:sutazai:role:<role>), one without a role, one from another CA, an
 * expired server certificate and a key that matches nothing. `remove()` deletes it all.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './temp-dir';

export interface Pem {
  certPem: string;
  keyPem: string;
}

export interface RuntimeCerts {
  dir: string;
  /** The install's CA. */
  ca: Pem;
  /** Server certificate for IP:127.0.0.1 and DNS:localhost, from `ca`. */
  server: Pem;
  /** Server certificate from `ca` that expired in 2020. */
  expiredServer: Pem;
  /** A key that belongs to no certificate here. */
  strayKeyPem: string;
  viewer: Pem;
  operator: Pem;
  admin: Pem;
  /** From `ca`, but with no role URI. */
  noRole: Pem;
  /** Another CA, and an `admin` client certificate it issued. */
  otherCa: Pem;
  otherCaAdmin: Pem;
  remove(): void;
}

function openssl(cwd: string, args: string[]): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
}

export function makeRuntimeCerts(): RuntimeCerts {
  const tmp = makeTempDir('sutazai-runtime-certs-');
  const dir = tmp.path;
  const file = (name: string): string => path.join(dir, name);
  const read = (name: string): string => fs.readFileSync(file(name), 'utf8');

  const key = (name: string): void =>
    openssl(dir, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`]);

  const ca = (name: string): Pem => {
    key(name);
    openssl(dir, [
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '2',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-out',
      `${name}.pem`,
    ]);
    return { certPem: read(`${name}.pem`), keyPem: read(`${name}.key`) };
  };

  const request = (name: string, extensions: string[]): void => {
    key(name);
    openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`]);
    fs.writeFileSync(file(`${name}.ext`), ['basicConstraints=CA:FALSE', ...extensions].join('\n') + '\n');
  };

  const leaf = (name: string, caName: string, extensions: string[]): Pem => {
    request(name, extensions);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.pem`,
      '-CAkey',
      `${caName}.key`,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
    return { certPem: read(`${name}.pem`), keyPem: read(`${name}.key`) };
  };

  // `openssl x509` cannot date a certificate in the past; `openssl ca` can.
  const expiredLeaf = (name: string, caName: string, extensions: string[]): Pem => {
    request(name, extensions);
    fs.mkdirSync(file('ca-db'), { recursive: true });
    fs.writeFileSync(file('ca-db/index.txt'), '');
    fs.writeFileSync(file('ca-db/serial'), `${randomBytes(8).toString('hex')}\n`);
    fs.writeFileSync(
      file('ca.cnf'),
      [
        '[ca]',
        'default_ca = test_ca',
        '[test_ca]',
        'database = ca-db/index.txt',
        'new_certs_dir = ca-db',
        'serial = ca-db/serial',
        'default_md = sha256',
        'policy = policy_any',
        'unique_subject = no',
        'copy_extensions = none',
        '[policy_any]',
        'commonName = supplied',
      ].join('\n') + '\n',
    );
    openssl(dir, [
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      '-cert',
      `${caName}.pem`,
      '-keyfile',
      `${caName}.key`,
      '-in',
      `${name}.csr`,
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200102000000Z',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ]);
    return { certPem: read(`${name}.pem`), keyPem: read(`${name}.key`) };
  };

  const serverExt = ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth', 'keyUsage=critical,digitalSignature'];
  const clientExt = (role: string | null): string[] => [
    ...(role === null ? [] : [`subjectAltName=URI:urn:sutazai:role:${role}`]),
    'extendedKeyUsage=clientAuth',
    'keyUsage=critical,digitalSignature',
  ];

  try {
    const installCa = ca('install-ca');
    const otherCa = ca('other-ca');
    key('stray');
    return {
      dir,
      ca: installCa,
      server: leaf('server', 'install-ca', serverExt),
      expiredServer: expiredLeaf('expired-server', 'install-ca', serverExt),
      strayKeyPem: read('stray.key'),
      viewer: leaf('viewer', 'install-ca', clientExt('viewer')),
      operator: leaf('operator', 'install-ca', clientExt('operator')),
      admin: leaf('admin', 'install-ca', clientExt('admin')),
      noRole: leaf('no-role', 'install-ca', clientExt(null)),
      otherCa,
      otherCaAdmin: leaf('other-admin', 'other-ca', clientExt('admin')),
      remove: tmp.remove,
    };
  } catch (error) {
    tmp.remove();
    throw error;
  }
}
