import { webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let loaded: Promise<typeof X509> | null = null;

/**
 * @peculiar/x509, loaded on first use. With its ASN.1 and reflection dependencies it takes
 * about 120 ms to load, a tenth of every `sutazai` command's start and of the backend's,
 * and only making a CA and issuing certificates need it (reading one is Node's own
 * X509Certificate, check-certificate.ts).
 *
 * The built app and CLI are CommonJS bundles, and the packaged app loads them from app.asar:
 * there it is a plain require, the loader Electron has long read app.asar with (its import()
 * from app.asar has had bugs of its own). Run from source as ES modules (tsx), where there is
 * no require, it is import().
 *
 * It builds and signs through WebCrypto; Node's own is set as its provider, so nothing but
 * Node is needed on the operator's machine (no openssl CLI on Windows).
 */
export function loadX509(): Promise<typeof X509> {
  loaded ??= (
    typeof require === 'function'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazily, and from app.asar (above)
        Promise.resolve(require('@peculiar/x509') as typeof X509)
      : import('@peculiar/x509')
  ).then((x509) => {
    // Node's webcrypto is the standard Crypto, but its typings and the DOM's (which the tests
    // compile with) differ in overloads nobody here uses; `never` fits either.
    x509.cryptoProvider.set(webcrypto as never);
    return x509;
  });
  return loaded;
}
