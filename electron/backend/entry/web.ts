import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ApiError } from '../../contract';
import { startBackend } from '../app/backend';
import { parseEntryArgs, sharedOptions } from '../app/process-options';
import { servingBackendConfig } from '../app/serving-backend-config';
import { startWebServer } from '../server/web-server';
import { issueWebCertificateFromInstall, WEB_CERTIFICATE_DAYS } from '../server/web-install-tls';
import { webTeamTls } from '../server/web-team-tls';

const USAGE =
  'npm run web -- [--port N] [--data-dir DIR] [--log-level LEVEL] [--listen ADDRESS (--tls-cert FILE --tls-key FILE | --tls-from-install INSTALL) [--name NAME]...]';

/**
 * `npm run web`: the same backend and renderer as the desktop app, served to a browser
 * on this machine. Works without a display; prints the URL (with its token) once ready.
 */
async function main(): Promise<void> {
  const { values } = parseEntryArgs(
    process.argv.slice(2),
    {
      port: { type: 'string' },
      listen: { type: 'string' },
      name: { type: 'string', multiple: true },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-from-install': { type: 'string' },
    },
    USAGE,
  );
  const options = sharedOptions(values);
  const names = values.name === undefined ? undefined : [values.name].flat();
  const fromInstall = values['tls-from-install'];
  if (fromInstall !== undefined && (values['tls-cert'] !== undefined || values['tls-key'] !== undefined))
    throw new ApiError(
      'WEB_TLS_REQUIRED',
      '--tls-from-install and --tls-cert/--tls-key were both given.',
      `Give one: the site's certificate files, or an install whose CA issues one. Usage: ${USAGE}`,
    );
  // A certificate from an install's CA, issued now from the key sealed in the vault (web-install-tls.ts).
  const issued =
    fromInstall === undefined
      ? undefined
      : await issueWebCertificateFromInstall({
          dataDir: options.dataDir,
          install: fromInstall,
          names: names ?? [],
          listen: values.listen,
          vaultKey: options.vaultKey,
        });
  // Beyond loopback only with TLS and operator sign-in (issue 14, item 5); refused before anything starts.
  const team = webTeamTls({
    listen: values.listen,
    names,
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    ...(issued ? { tlsPem: { cert: issued.certPem, key: issued.keyPem, source: `the certificate issued from ${fromInstall}'s CA` } } : {}),
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ApiError(
      'BAD_PARAMS',
      `"${values.port}" is not a TCP port.`,
      `Give a port from 1 to 65535, or 0 for a free one. Usage: ${USAGE}`,
    );
  }
  const backend = await startBackend({
    ...servingBackendConfig(options, 'web'),
    ...(options.vaultKey ? { vaultKey: options.vaultKey } : {}),
  });
  if (team && !backend.operatorsExist()) {
    await backend.close();
    throw new ApiError(
      'OPERATOR_NOT_FOUND',
      'Web mode for a team signs people in as operators, and this control center has none.',
      'Add an admin first (`sutazai operators add NAME --role admin`), then start web mode again.',
    );
  }
  let server;
  try {
    server = await startWebServer({
      dispatcher: backend.dispatcher,
      rendererDir: process.env.SUTAZAI_RENDERER_DIR ?? path.join(__dirname, '..', 'renderer'),
      token: randomBytes(24).toString('base64url'),
      port,
      logger: backend.logger,
      downloads: backend.downloads,
      ...(team ? { team: { ...team, sessions: backend.webSessions, provider: backend.signInProvider } } : {}),
    });
  } catch (error) {
    await backend.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ApiError(
        'BAD_PARAMS',
        `Port ${port} on ${team?.listen ?? '127.0.0.1'} is already in use.`,
        'Choose another with --port, or leave it out to use a free one.',
      );
    }
    throw error;
  }
  process.stdout.write(`SutazAI Control Center (web mode) is ready: ${server.url}\n`);
  if (issued)
    process.stdout.write(
      `Certificate from ${fromInstall}'s CA (valid ${WEB_CERTIFICATE_DAYS} days, issued again at each start): browsers trust it through that CA, ${issued.caFile} (SHA-256 ${issued.caFingerprint}).\n`,
    );
  process.stdout.write(`Data: ${options.dataDir}\nLog: ${backend.logFile}\nPress Ctrl+C to stop.\n`);
  for (const warning of backend.startupWarnings) process.stderr.write(`warning: ${warning.message}\nremedy: ${warning.remedy}\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    backend.logger.info({ signal }, 'web mode stopping');
    await server.close();
    // Each step says it ended, so a stop that hangs shows where.
    backend.logger.info({}, 'web server closed');
    await backend.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ApiError) {
    process.stderr.write(`error ${error.code}: ${error.message}\nremedy: ${error.remedy}\n`);
  } else {
    process.stderr.write(`error INTERNAL: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(error instanceof ApiError && error.code === 'BAD_PARAMS' ? 2 : 1);
});
