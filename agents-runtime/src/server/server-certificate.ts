/**
 * Checks the runtime's own TLS material before the server binds, so an expired
 * certificate or a key from another certificate is an error with a code and a remedy
 * at start, not an opaque handshake failure on every client later.
 *
 * The check runs in a short-lived Node process of its own (the daemon's binary, `node -e`),
 * which answers in one JSON line and exits. Why: parsing X.509 and keys takes `node:crypto`,
 * and a module once loaded stays for the process's life; the daemon otherwise loads it only
 * when its first client's TLS does (0.5 MB of its footprint with 10 children, bench:runtime,
 * issue 13's target). Where that process cannot run or gives no answer (no memory for it,
 * the binary replaced during an upgrade), the daemon checks in its own process instead, as
 * before, and says why: the check is never skipped.
 */
import { spawn } from 'node:child_process';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { RuntimeError } from '../runtime-error';

export interface ServerTlsMaterial {
  /** The install's CA: client certificates must be issued by it. */
  caCertPem: string;
  /** The runtime's server certificate (optionally followed by its chain). */
  certPem: string;
  keyPem: string;
}

/** The check's answer: the server certificate's end of validity, or what is wrong and what to do. */
export type TlsMaterialVerdict = { notAfterMs: number } | { problem: { message: string; remedy: string } };

/**
 * The whole check, in one function that refers to nothing outside it: its source text is
 * the program the checking process runs (`String(tlsMaterialVerdict)`). Hence no imports,
 * no helpers and no function defined inside it (a transform that names functions, as tsx's
 * does, would call a helper the other process does not have); the unit tests run it both
 * ways.
 */
export function tlsMaterialVerdict(tls: ServerTlsMaterial, nowMs: number): TlsMaterialVerdict {
  const crypto = process.getBuiltinModule('node:crypto');
  const renew =
    "issue a new server certificate for this machine from the install's CA, point the runtime config at it and restart sutazai-runtime";
  let server: X509Certificate | undefined;
  for (const [pem, what] of [
    [tls.caCertPem, 'CA certificate'],
    [tls.certPem, 'server certificate'],
  ] as const) {
    let cert: X509Certificate;
    try {
      cert = new crypto.X509Certificate(pem);
    } catch {
      return {
        problem: {
          message: `the ${what} is not a PEM X.509 certificate`,
          remedy: `check the ${what} path in the runtime config; ${renew}`,
        },
      };
    }
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    if (Number.isFinite(notAfter) && notAfter < nowMs) {
      return { problem: { message: `the ${what} (${cert.subject.replace(/\n/g, ', ')}) expired on ${cert.validTo}`, remedy: renew } };
    }
    if (Number.isFinite(notBefore) && notBefore > nowMs) {
      return {
        problem: {
          message: `the ${what} is not valid before ${cert.validFrom}`,
          remedy: "check this machine's clock (timedatectl); if it is right, wait or issue a certificate valid from now",
        },
      };
    }
    server = cert;
  }
  let key: KeyObject;
  try {
    key = crypto.createPrivateKey(tls.keyPem);
  } catch {
    return {
      problem: {
        message: 'the server key is not an unencrypted PEM private key',
        remedy: `check the key path in the runtime config; ${renew}`,
      },
    };
  }
  if (!server!.checkPrivateKey(key)) {
    return {
      problem: {
        message: `the server key does not match the server certificate (${server!.subject.replace(/\n/g, ', ')})`,
        remedy: `point the runtime config at the key the certificate was issued for, or ${renew}`,
      },
    };
  }
  return { notAfterMs: Date.parse(server!.validTo) };
}

/** The checking process's program: the material and the time on stdin, the verdict on stdout. */
const CHECK_PROGRAM = [
  'let input = "";',
  'process.stdin.setEncoding("utf8").on("data", (chunk) => { input += chunk; }).on("end", () => {',
  '  const { tls, nowMs } = JSON.parse(input);',
  `  process.stdout.write(JSON.stringify((${String(tlsMaterialVerdict)})(tls, nowMs)));`,
  '});',
].join('\n');

/** The longest the checking process may take before the daemon checks in its own process. */
const CHECK_TIMEOUT_MS = 60_000;

/** The verdict from a process of its own, or why there is none (it could not run, failed or answered nonsense). */
export function verdictApart(tls: ServerTlsMaterial, nowMs: number): Promise<TlsMaterialVerdict | { failed: string }> {
  return new Promise((resolve) => {
    // No inherited environment: NODE_OPTIONS and the like are for the operator's programs.
    const child = spawn(process.execPath, ['-e', CHECK_PROGRAM], { stdio: ['pipe', 'pipe', 'pipe'], env: {}, timeout: CHECK_TIMEOUT_MS });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (out.length < 65_536) out += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (err.length < 4096) err += chunk;
    });
    child.stdin.on('error', () => undefined);
    child.once('error', (error) => resolve({ failed: `it could not run: ${error.message}` }));
    child.once('close', (code, signal) => {
      if (code !== 0) {
        resolve({ failed: `it ended with ${signal ?? `exit code ${code}`}${err.trim() === '' ? '' : `: ${err.trim().slice(0, 500)}`}` });
        return;
      }
      try {
        const verdict = JSON.parse(out) as TlsMaterialVerdict;
        if (isVerdict(verdict)) resolve(verdict);
        else resolve({ failed: 'its answer was not a verdict' });
      } catch {
        resolve({ failed: 'its answer was not JSON' });
      }
    });
    child.stdin.end(JSON.stringify({ tls, nowMs }));
  });
}

function isVerdict(value: unknown): value is TlsMaterialVerdict {
  if (typeof value !== 'object' || value === null) return false;
  if ('notAfterMs' in value) return typeof value.notAfterMs === 'number';
  if (!('problem' in value) || typeof value.problem !== 'object' || value.problem === null) return false;
  const problem = value.problem as Record<string, unknown>;
  return typeof problem['message'] === 'string' && typeof problem['remedy'] === 'string';
}

export interface CheckOptions {
  /** Told why the check ran in the daemon's own process (its log says it). */
  onCheckedInProcess?: (why: string) => void;
}

/** Throws RuntimeError CERTIFICATE_INVALID when the material cannot serve TLS right now. */
export async function checkServerTlsMaterial(tls: ServerTlsMaterial, options: CheckOptions = {}): Promise<{ notAfter: Date }> {
  const nowMs = Date.now();
  let verdict = await verdictApart(tls, nowMs);
  if ('failed' in verdict) {
    options.onCheckedInProcess?.(`the checking process gave no verdict (${verdict.failed})`);
    verdict = tlsMaterialVerdict(tls, nowMs);
  }
  if ('problem' in verdict) throw new RuntimeError('CERTIFICATE_INVALID', verdict.problem.message, verdict.problem.remedy);
  return { notAfter: new Date(verdict.notAfterMs) };
}
