// The runtime's real gRPC server (agents-runtime runtime-server.ts) over a FixedRuntimeApi,
// as a process of its own, for tests that run it where the test process is not: inside
// a test host's network namespace, on that namespace's loopback. Prints one line,
// `listening <address>`, once it accepts connections; stops on SIGTERM.
// Usage: node --import tsx tests/support/runtime-api-server-process.ts --listen 127.0.0.1:7600 --tls-dir DIR
//   DIR holds ca.pem, server.pem and server.key.
import fs from 'node:fs';
import path from 'node:path';
import { startRuntimeServer } from '../../agents-runtime/src/server/runtime-server';
import { FixedRuntimeApi } from './fixed-runtime-api';

// An orphan must not outlive its test run by much (the lab also kills it with the namespace).
const MAX_LIFETIME_MS = 5 * 60_000;

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`missing --${name}`);
  return value;
}

const tlsDir = arg('tls-dir');
const read = (name: string): string => fs.readFileSync(path.join(tlsDir, name), 'utf8');
const server = await startRuntimeServer({
  address: arg('listen'),
  tls: { caCertPem: read('ca.pem'), certPem: read('server.pem'), keyPem: read('server.key') },
  api: new FixedRuntimeApi(),
});
process.stdout.write(`listening ${server.address}\n`);

const stop = (): void => void server.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
setTimeout(stop, MAX_LIFETIME_MS).unref();
