import type { MethodName } from './api';
import { BundleReferenceSchema, type InstallLayer, type ParsedInstallDefinition } from './installs';

/**
 * Methods a page may call whose params may still name a path on the backend's machine:
 * an install definition's `bundle` given as a file's path (imported on the way) and its
 * `{file}` layers (read as YAML, their errors quoting the file's lines and keys). Over a
 * pipe that may not name such paths (web mode: PAGE_PATH_METHODS' rule) those fields are
 * refused before any file is touched; a page names a bundle imported before as
 * name@version (the Bundles page imports an upload) and writes its layers inline.
 */
const INSTALL_DEFINITION_METHODS: ReadonlySet<string> = new Set<MethodName>(['installs.plan', 'installs.start']);

/**
 * Methods whose host login may name a private key file on the backend's machine
 * (`auth.keyPath`) or its SSH agent (`auth.method: agent`: the backend's SSH_AUTH_SOCK, the
 * keys of whoever started the backend). A browser's person has neither there, and a path from
 * a request is never read: web mode sends the key itself (`auth: {method: 'keyText',
 * privateKey}`), sealed in the vault on arrival.
 */
const HOST_LOGIN_METHODS: ReadonlySet<string> = new Set<MethodName>(['hosts.add', 'hosts.scanNew', 'hosts.update']);

/** Why the fields backendPathFieldsIn found in `method`'s params are refused over a browser pipe. */
export function backendPathMessage(method: MethodName, fields: readonly string[]): string {
  return HOST_LOGIN_METHODS.has(method)
    ? `${method}: ${fields.join(', ')} would log in with a key file or the SSH agent of the backend's machine, which a browser (web mode) may not use: they are not yours to use from here.`
    : `${method}: ${fields.join(', ')} names a file on the backend's machine, which a browser (web mode) may not: its files are not yours to name from here.`;
}

/** What to do instead, for the fields backendPathFieldsIn found in `method`'s params. */
export function backendPathRemedy(method: MethodName): string {
  return HOST_LOGIN_METHODS.has(method)
    ? 'In web mode, give the key itself: choose "Paste key" under Login and paste the private key (or read it from a file on your computer), with its passphrase if it has one; it is sealed in the vault. Or run the sutazai command, or the desktop app, on the backend machine.'
    : 'In web mode, import the bundle on the Bundles page (choose the file from your computer) and name it as name@version; write configuration layers inline (text or values), not as files. Or run the sutazai command, or the desktop app, on the backend machine.';
}

/** The fields of these parsed params that name a path on the backend's machine, as `install.config[0].file`; none: []. */
export function backendPathFieldsIn(method: MethodName, params: unknown): string[] {
  if (HOST_LOGIN_METHODS.has(method)) return hostKeyPathFields(method, params);
  if (!INSTALL_DEFINITION_METHODS.has(method)) return [];
  const install = (params as { install?: ParsedInstallDefinition }).install;
  if (install === undefined) return [];
  const fields: string[] = [];
  // The engine reads anything but name@version as a path (parseBundleReference).
  if (!BundleReferenceSchema.safeParse(install.bundle).success) fields.push('install.bundle');
  const isFile = (layer: InstallLayer | undefined) => layer !== undefined && 'file' in layer;
  install.config.forEach((layer, index) => {
    if (isFile(layer)) fields.push(`install.config[${index}].file`);
  });
  install.hosts.forEach((host, index) => {
    if (isFile(host.config)) fields.push(`install.hosts[${index}].config.file`);
  });
  return fields;
}

function hostKeyPathFields(method: MethodName, params: unknown): string[] {
  const inUpdate = method === 'hosts.update';
  const auth = inUpdate
    ? (params as { changes?: { auth?: { method: string } } }).changes?.auth
    : (params as { auth?: { method: string } }).auth;
  const prefix = inUpdate ? 'changes.auth' : 'auth';
  if (auth?.method === 'key') return [`${prefix}.keyPath`];
  return auth?.method === 'agent' ? [`${prefix}.method agent`] : [];
}
