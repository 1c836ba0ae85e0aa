import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import type { BackendConfig } from '../../electron/backend/app/backend';
import { createInstallCa } from '../../electron/backend/pki/install-ca';
import { issueServerCertificate } from '../../electron/backend/pki/issue-certificate';
import type { ApiClient } from '../../electron/contract';
import { startQuietBackend } from './backend-harness';
import { launchChromium } from './chromium';
import { startSignInProvider, type SignInProvider } from './oidc-sign-in-provider';
import type { Defer } from './suite-set-up';
import { makeTempDir } from './temp-dir';
import { startWebModeServer, stopWebModeServer, waitForUrl } from './web-mode-server';

const TEAM_URL = /https:\/\/localhost:(\d+)\//;

export interface ProviderTeamSite {
  /** https://localhost:PORT/ */
  url: string;
  provider: SignInProvider;
  /** Debian's Chromium, trusting the site's certificate (by its public key) and nothing else. */
  browser: Browser;
  /** The web-mode server's output (its log). */
  output(): string;
}

/**
 * Web mode for a team signing people in through a real `oidc-provider` (the web client): the
 * data directory is prepared first through a backend of its own (`prepare`, as its bootstrap
 * admin), then `npm run web` serves it over TLS at https://localhost:PORT with a certificate
 * from a test install's CA. `vaultPassphrase` opens the vault in both (two-factor secrets).
 */
export async function startProviderTeamSite(
  defer: Defer,
  options: {
    prepare(admin: ApiClient): Promise<void>;
    amrByAccount?: Record<string, string[]>;
    vaultPassphrase?: string;
  },
): Promise<ProviderTeamSite> {
  const dir = makeTempDir('sutazai-e2e-provider-site-');
  defer(dir.remove);
  const dataDir = path.join(dir.path, 'data');
  const vault: Partial<BackendConfig> =
    options.vaultPassphrase === undefined ? {} : { vaultKey: { kind: 'passphrase', passphrase: options.vaultPassphrase } };
  const backend = await startQuietBackend(dataDir, vault);
  try {
    await options.prepare(backend.openClient());
  } finally {
    await backend.close();
  }

  // The provider knows the callback in advance: the server listens on a port picked here.
  const port = await freePort();
  const provider = await startSignInProvider({
    webRedirects: [`https://localhost:${port}/oidc/callback`],
    ...(options.amrByAccount ? { amrByAccount: options.amrByAccount } : {}),
  });
  defer(() => provider.close());
  provider.configure(dataDir, 'web');

  const ca = await createInstallCa({ installName: 'e2e-provider-site' });
  const issued = await issueServerCertificate(ca, { hostName: 'control.test' });
  const certFile = path.join(dir.path, 'web.crt');
  const keyFile = path.join(dir.path, 'web.key');
  fs.writeFileSync(certFile, issued.certPem);
  fs.writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
  const env: Record<string, string> = options.vaultPassphrase === undefined ? {} : { SUTAZAI_PASSPHRASE: options.vaultPassphrase };
  const server = startWebModeServer(dataDir, env, [
    ...['--listen', '127.0.0.1', '--tls-cert', certFile, '--tls-key', keyFile],
    ...['--name', 'localhost', '--port', String(port)],
  ]);
  defer(() => stopWebModeServer(server));
  const url = await waitForUrl(server, undefined, TEAM_URL);

  const spki = new X509Certificate(issued.certPem).publicKey.export({ type: 'spki', format: 'der' });
  const browser = await launchChromium([`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`]);
  defer(() => browser.close());
  return { url, provider, browser, output: server.output };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
