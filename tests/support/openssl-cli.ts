// The openssl command line as an independent judge of certificates made in Node: it
// shares no code with @peculiar/x509 or Node's own parser.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir } from './temp-dir';

/** `openssl x509 -noout -text` of a PEM certificate. */
export function opensslText(certPem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-text'], { input: certPem, encoding: 'utf8', timeout: 20_000 });
}

/** `openssl verify -CAfile ca [-purpose p] cert`: its exit code and what it printed. */
export function opensslVerify(caPem: string, certPem: string, purpose?: 'sslserver' | 'sslclient'): { ok: boolean; output: string } {
  const dir = makeTempDir('sutazai-openssl-');
  try {
    const ca = path.join(dir.path, 'ca.pem');
    const cert = path.join(dir.path, 'cert.pem');
    fs.writeFileSync(ca, caPem);
    fs.writeFileSync(cert, certPem);
    const args = ['verify', '-CAfile', ca, ...(purpose ? ['-purpose', purpose] : []), cert];
    const result = spawnSync('openssl', args, { encoding: 'utf8', timeout: 20_000 });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  } finally {
    dir.remove();
  }
}
