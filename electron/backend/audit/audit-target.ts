/** The host names an entry shows instead of ids (read before the call: a removal takes the name with it). */
export interface TargetNames {
  hostName(hostId: number): string | null;
  /** An upload (web mode) by its name as sent and its SHA-256, never by its id (a session's handle on it). */
  upload?(uploadId: string): { fileName: string; sha256: string } | null;
}

/** Past this many hosts a target says how many more there were. */
const MAX_HOSTS_NAMED = 10;
/** A target is a line to read and filter, not a copy of the request. */
const MAX_TARGET_LENGTH = 512;

/** What a method's bare `name` names, by its group. */
const NAME_OF_GROUP: Readonly<Record<string, string>> = {
  hosts: 'host',
  installs: 'install',
  operators: 'operator',
  session: 'operator',
  mfa: 'operator',
};

/**
 * What a call acted on, in words (`host db-2, process agent`), from the params it was called
 * with: only the keys below are read, each a name, an id, a path or a public fingerprint, so
 * a password, passphrase or file's text in the same params never reaches the log. Null when
 * the call named nothing (a vault unlock, an import of pasted text).
 */
export function auditTarget(method: string, params: unknown, names: TargetNames): string | null {
  if (typeof params !== 'object' || params === null) return null;
  const p = params as Record<string, unknown>;
  const group = method.split('.', 1)[0] ?? '';
  const parts: string[] = [];
  const add = (word: string, value: unknown) => {
    if (typeof value === 'string' || typeof value === 'number') parts.push(`${word} ${value}`);
  };
  const hostWords = (hostId: number) => names.hostName(hostId) ?? `#${hostId}`;

  if (typeof p.hostId === 'number') parts.push(`host ${hostWords(p.hostId)}`);
  if (Array.isArray(p.hostIds)) {
    const ids = p.hostIds.filter((id): id is number => typeof id === 'number');
    const shown = ids.slice(0, MAX_HOSTS_NAMED).map(hostWords).join(', ');
    const more = ids.length > MAX_HOSTS_NAMED ? ` and ${ids.length - MAX_HOSTS_NAMED} more` : '';
    parts.push(`${ids.length === 1 ? 'host' : 'hosts'} ${shown}${more}`);
  }
  // A support bundle's target: an install by name, or one host (support.collect).
  const target = p.target as { install?: unknown; hostId?: unknown } | undefined;
  if (group === 'support' && typeof target === 'object' && target !== null) {
    add('install', target.install);
    if (typeof target.hostId === 'number') parts.push(`host ${hostWords(target.hostId)}`);
  }
  if (group === 'support') add('collection', p.previewId);
  const nameWord = NAME_OF_GROUP[group];
  if (nameWord !== undefined) add(nameWord, p.name);
  const install = p.install as { name?: unknown } | undefined;
  if (typeof install === 'object' && install !== null) add('install', install.name);
  add('host', p.host);
  add('process', p.process);
  add('replicas', p.replicas);
  add('bundle', p.bundle);
  add('release', p.to);
  add('profile', p.profile);
  add('job', p.jobId);
  add('run', p.progressId);
  add('draft', p.draftId);
  const draft = p.draft as { draftId?: unknown } | undefined;
  if (typeof draft === 'object' && draft !== null) add('draft', draft.draftId);
  if (group === 'alerts') add('alert', p.id);
  if (group === 'sessions') add('web session', p.id);
  add('file', p.path);
  const file = p.file as { path?: unknown; fileName?: unknown } | undefined;
  if (typeof file === 'object' && file !== null) add('file', file.path ?? file.fileName);
  if (p.file === undefined) add('file', p.fileName);
  if (typeof p.uploadId === 'string') {
    const upload = names.upload?.(p.uploadId) ?? null;
    parts.push(upload ? `upload ${upload.fileName} (SHA-256 ${upload.sha256})` : 'an upload not held');
  }
  add('key', p.fingerprint);
  add('key', p.trustKey);
  // An accepted reset of a host's runtime log: the entry taken as its new start.
  const head = p.head as { seq?: unknown; hash?: unknown } | undefined;
  if (group === 'audit' && typeof head === 'object' && head !== null && typeof head.seq === 'number' && typeof head.hash === 'string')
    parts.push(`new start entry ${head.seq} ${head.hash}`);

  if (parts.length === 0) return null;
  const text = parts.join(', ');
  return text.length > MAX_TARGET_LENGTH ? `${text.slice(0, MAX_TARGET_LENGTH - 1)}…` : text;
}
