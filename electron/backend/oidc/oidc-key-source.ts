/**
 * The site's OpenID Connect provider's public keys, as the control center pushes them to
 * runtimes (authentication_method: oauth2). Fetched from the provider (its discovery
 * document names its `jwks_uri`) or read from a pinned file for offline sites, again every
 * `refresh_seconds`; a change (a key rotated at the provider, a file replaced) tells the
 * links to push, so runtimes refuse tokens of a removed key within one refresh and one push.
 * A refresh that fails keeps the last good keys, kept in the store too (an unreachable
 * provider, or a restart while it is, must not lock everyone out of the runtimes), and says
 * why; before any good read ever, no key is pushed and the runtimes accept no provider token.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { ApiError } from '../../contract';
import type { OidcKeySetsRepo } from './oidc-key-sets-repo';
import { keySourceId, type KeySourceConfig, type OAuth2Config } from './oidc-settings';

/** Discovery documents and key sets are small; anything larger is refused before it is parsed. */
export const MAX_OIDC_DOCUMENT_BYTES = 256 * 1024;
/** No byte for this long ends a fetch. */
const FETCH_IDLE_TIMEOUT_MS = 10_000;
/**
 * A whole fetch (connect, headers and body) ends by this deadline, however the provider
 * trickles bytes: a stalled read must not keep a source's keys, and a key rotated out at
 * the provider, from being read again.
 */
export const FETCH_DEADLINE_MS = 20_000;

export interface OidcKeySource {
  /** The key set (JSON text) last read for `config`'s source, or null before the first good read. */
  keysFor(config: KeySourceConfig): string | null;
  /**
   * Reads every source `configs` names now, each on its own (a source whose read is still
   * under way joins that read): a source's new keys count, and are pushed, as soon as it is
   * read, whatever the others do. Resolves when all are done (each failure recorded, never thrown).
   */
  refresh(configs: KeySourceConfig[]): Promise<void>;
  /** The last failure of `config`'s source, or null. */
  problemOf(config: KeySourceConfig): ApiError | null;
}

export interface OidcKeySourceDeps {
  /** Called after a refresh changed some source's keys: the links push the new state. */
  changed(): void;
  log?: (line: string) => void;
  /** Keeps each source's last good key set across restarts (and for one-shot commands, which read no provider). */
  repo?: OidcKeySetsRepo;
  now?: () => number;
  /** A whole fetch's deadline (FETCH_DEADLINE_MS unless a test shortens it). */
  fetchDeadlineMs?: number;
}

export function unavailable(issuer: string, detail: string): ApiError {
  return new ApiError(
    'OIDC_PROVIDER_UNAVAILABLE',
    `The OpenID Connect provider ${issuer} could not be read: ${detail}`,
    'Check that the control center reaches the issuer URL (and trusts its certificate: oauth2.ca_file), or pin its keys with oauth2.jwks_file. The runtimes keep the keys last pushed.',
  );
}

function keysInvalid(where: string, detail: string): ApiError {
  return new ApiError(
    'OIDC_KEYS_INVALID',
    `The key set from ${where} is not usable: ${detail}`,
    'Give the provider\'s public JSON Web Key Set ({"keys": [...]}, no private or symmetric keys).',
  );
}

/** Only http on loopback (a provider on this machine) or https; nothing else is fetched. */
export function checkUrl(raw: string, issuer: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw unavailable(issuer, `${JSON.stringify(raw)} is not a URL`);
  }
  // Literal loopback addresses only: a name such as localhost is resolved by DNS or /etc/hosts,
  // which may point it elsewhere, and keys fetched over plain http there could be swapped.
  const loopback = ['127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw unavailable(issuer, `${url.origin} is not https (plain http is allowed on loopback only)`);
  if (url.username !== '' || url.password !== '') throw unavailable(issuer, 'the URL carries credentials');
  return url;
}

export function fetchJson(url: URL, issuer: string, caPem: string | undefined, deadlineMs = FETCH_DEADLINE_MS): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? https.get : http.get;
    const request = get(
      url,
      { timeout: FETCH_IDLE_TIMEOUT_MS, headers: { accept: 'application/json' }, ...(caPem ? { ca: caPem } : {}) },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(unavailable(issuer, `${url.href} answered HTTP ${response.statusCode}`));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_OIDC_DOCUMENT_BYTES) {
            request.destroy();
            reject(unavailable(issuer, `${url.href} sent more than ${MAX_OIDC_DOCUMENT_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          } catch {
            reject(unavailable(issuer, `${url.href} did not answer JSON`));
          }
        });
        response.on('error', (error) => reject(unavailable(issuer, error.message)));
      },
    );
    const deadline = setTimeout(() => {
      const error = new Error(`no complete answer within ${deadlineMs} ms`);
      request.destroy(error);
      reject(unavailable(issuer, `${url.href}: ${error.message}`));
    }, deadlineMs);
    deadline.unref();
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no byte within ${FETCH_IDLE_TIMEOUT_MS} ms`)));
    request.on('error', (error) => reject(unavailable(issuer, `${url.href}: ${error.message}`)));
  });
}

const PUBLIC_JWK_FIELDS = new Set(['kty', 'kid', 'use', 'alg', 'key_ops', 'n', 'e', 'crv', 'x', 'y', 'x5c', 'x5t', 'x5t#S256']);

/**
 * The key set reduced to public signing keys, as canonical JSON text (the same keys give
 * the same text, so an unchanged provider gives an unchanged state and no push).
 */
export function publicKeySet(value: unknown, where: string): string {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw keysInvalid(where, 'it has no "keys" list');
  const kept: Array<Record<string, unknown>> = [];
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key)) throw keysInvalid(where, 'a key is not an object');
    const jwk = key as Record<string, unknown>;
    if (jwk.kty === 'oct' || 'd' in jwk || 'p' in jwk || 'k' in jwk)
      throw keysInvalid(where, `key ${JSON.stringify(jwk.kid)} is private or symmetric`);
    if (jwk.use !== undefined && jwk.use !== 'sig') continue; // encryption keys sign nothing
    if (!['RSA', 'EC', 'OKP'].includes(String(jwk.kty))) continue;
    kept.push(
      Object.fromEntries(
        Object.keys(jwk)
          .filter((field) => PUBLIC_JWK_FIELDS.has(field))
          .sort()
          .map((field) => [field, jwk[field]]),
      ),
    );
  }
  if (kept.length === 0) throw keysInvalid(where, 'it holds no public signing key (RSA, EC or OKP)');
  kept.sort((a, b) => String(a.kid).localeCompare(String(b.kid)));
  return JSON.stringify({ keys: kept });
}

async function readSource(config: KeySourceConfig, deadlineMs: number | undefined): Promise<string> {
  if (config.jwks_file !== undefined) {
    const file = config.jwks_file;
    let text: string;
    try {
      const stat = fs.statSync(file);
      if (!stat.isFile()) throw new Error('not a plain file');
      if (stat.size > MAX_OIDC_DOCUMENT_BYTES) throw new Error(`larger than ${MAX_OIDC_DOCUMENT_BYTES} bytes`);
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw keysInvalid(file, (error as Error).message);
    }
    try {
      return publicKeySet(JSON.parse(text), file);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw keysInvalid(file, 'it is not JSON');
    }
  }
  const caPem = config.ca_file === undefined ? undefined : fs.readFileSync(config.ca_file, 'utf8');
  const base = config.issuer.replace(/\/$/, '');
  const discoveryUrl = checkUrl(`${base}/.well-known/openid-configuration`, config.issuer);
  const discovery = (await fetchJson(discoveryUrl, config.issuer, caPem, deadlineMs)) as { issuer?: unknown; jwks_uri?: unknown } | null;
  // A document naming another issuer is another provider's (or a mix-up): its keys are not this issuer's.
  if (discovery?.issuer !== config.issuer)
    throw unavailable(config.issuer, `its discovery document names the issuer ${JSON.stringify(discovery?.issuer)}, not ${config.issuer}`);
  if (typeof discovery.jwks_uri !== 'string') throw unavailable(config.issuer, 'its discovery document names no jwks_uri');
  const jwksUrl = checkUrl(discovery.jwks_uri, config.issuer);
  return publicKeySet(await fetchJson(jwksUrl, config.issuer, caPem, deadlineMs), jwksUrl.href);
}

export function createOidcKeySource(deps: OidcKeySourceDeps): OidcKeySource {
  const keys = deps.repo?.all() ?? new Map<string, string>();
  const problems = new Map<string, ApiError>();
  const reading = new Map<string, Promise<void>>();
  const readOne = async (id: string, config: KeySourceConfig): Promise<void> => {
    try {
      const text = await readSource(config, deps.fetchDeadlineMs);
      problems.delete(id);
      if (keys.get(id) !== text) {
        keys.set(id, text);
        deps.repo?.save(id, text, (deps.now ?? Date.now)());
        deps.changed();
      }
    } catch (error) {
      const problem = error instanceof ApiError ? error : unavailable(config.issuer, (error as Error).message);
      problems.set(id, problem);
      deps.log?.(`oauth2: ${problem.message} (${problem.code})`);
    } finally {
      reading.delete(id);
    }
  };
  return {
    keysFor: (config) => keys.get(keySourceId(config)) ?? null,
    problemOf: (config) => problems.get(keySourceId(config)) ?? null,
    async refresh(configs) {
      const sources = new Map(configs.map((config) => [keySourceId(config), config]));
      await Promise.all(
        [...sources].map(([id, config]) => {
          let read = reading.get(id);
          if (read === undefined) {
            read = readOne(id, config);
            reading.set(id, read);
          }
          return read;
        }),
      );
    },
  };
}

export interface OidcKeyRefresh {
  /** Reads every source now (tests, and the first read at start). */
  refreshNow(): Promise<void>;
  stop(): void;
}

/**
 * Reads the sources `configs()` names at once and then every `refresh_seconds` (the
 * smallest any install asks for; one minute when none uses oauth2). A tick never waits for
 * the last one's reads: each source is read on its own, so one stalled provider delays no other.
 */
export function startOidcKeyRefresh(source: OidcKeySource, configs: () => OAuth2Config[]): OidcKeyRefresh {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  const refreshNow = (): Promise<void> => source.refresh(configs());
  const schedule = (): void => {
    if (stopped) return;
    const seconds = Math.min(60, ...configs().map((config) => config.refresh_seconds));
    timer = setTimeout(() => {
      void refreshNow();
      schedule();
    }, seconds * 1000);
    timer.unref();
  };
  void refreshNow();
  schedule();
  return {
    refreshNow,
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
