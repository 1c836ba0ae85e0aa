import type { z } from 'zod';
import { HostChangesSchema, HostInputSchema, type HostInput, type HostRole, type HostSummary } from '../../../electron/contract';

export type AuthMethodChoice = 'key' | 'agent' | 'password';
/**
 * Where a key login's private key comes from: its text, pasted or read from a file on the
 * operator's own computer (sealed in the vault), or a file on the backend's machine (the
 * desktop app only: a browser in web mode has no files there to name).
 */
export type KeySource = 'text' | 'file';

/** A host's role as every screen names it. */
export const ROLE_LABELS: Record<HostRole, string> = { core: 'Core', agent: 'Agent', both: 'Core and agent' };

/** What the add/edit form holds: text as typed, turned into contract params on submit. */
export interface HostFormValues {
  name: string;
  address: string;
  port: string;
  user: string;
  authMethod: AuthMethodChoice;
  keySource: KeySource;
  /** The private key's text (keySource 'text'); empty on edit keeps the stored one. */
  privateKey: string;
  keyPath: string;
  passphrase: string;
  password: string;
  sudoPassword: string;
  /** Edit only: drop the stored sudo password. */
  forgetSudoPassword: boolean;
  /** '' for a direct connection, else the jump host's id. */
  jumpHostId: string;
  role: '' | HostRole;
  labels: string;
}

export type HostFormField = Exclude<keyof HostFormValues, 'forgetSudoPassword'> | 'form';
export type FieldErrors = Partial<Record<HostFormField, string>>;

export const EMPTY_HOST_FORM: HostFormValues = {
  name: '',
  address: '',
  port: '22',
  user: '',
  authMethod: 'key',
  keySource: 'text',
  privateKey: '',
  keyPath: '',
  passphrase: '',
  password: '',
  sudoPassword: '',
  forgetSudoPassword: false,
  jumpHostId: '',
  role: '',
  labels: '',
};

/** The edit form starts from the host as stored; secrets are never sent back, so they start empty. */
export function formFromHost(host: HostSummary): HostFormValues {
  return {
    ...EMPTY_HOST_FORM,
    name: host.name,
    address: host.address,
    port: String(host.port),
    user: host.user,
    authMethod: host.authMethod === 'none' ? 'key' : host.authMethod,
    keySource: host.authMethod === 'key' && host.keyPath !== null ? 'file' : 'text',
    keyPath: host.keyPath ?? '',
    jumpHostId: host.jumpHostId === null ? '' : String(host.jumpHostId),
    role: host.role ?? '',
    labels: host.labels.join(', '),
  };
}

/** "gpu, rack=b4,,site/lab-2 " → ["gpu", "rack=b4", "site/lab-2"]. */
export function parseLabels(text: string): string[] {
  return text
    .split(',')
    .map((label) => label.trim())
    .filter((label) => label !== '');
}

/** A port as typed; anything but plain digits becomes NaN so the schema refuses it. */
function parsePort(text: string): number {
  const trimmed = text.trim();
  return /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

function authFromForm(values: HostFormValues): HostInput['auth'] {
  switch (values.authMethod) {
    case 'key':
      if (values.keySource === 'text') {
        const key = { method: 'keyText' as const, privateKey: values.privateKey };
        return values.passphrase === '' ? key : { ...key, passphrase: values.passphrase };
      }
      return values.passphrase === ''
        ? { method: 'key', keyPath: values.keyPath.trim() }
        : { method: 'key', keyPath: values.keyPath.trim(), passphrase: values.passphrase };
    case 'agent':
      return { method: 'agent' };
    case 'password':
      return { method: 'password', password: values.password };
  }
}

/** The `hosts.add` params the form describes (unvalidated). */
export function hostInputFromForm(values: HostFormValues): HostInput {
  const input: HostInput = {
    name: values.name.trim(),
    address: values.address.trim(),
    port: parsePort(values.port),
    user: values.user.trim(),
    auth: authFromForm(values),
    jumpHostId: values.jumpHostId === '' ? null : Number(values.jumpHostId),
    role: values.role === '' ? null : values.role,
    labels: parseLabels(values.labels),
  };
  if (values.sudoPassword !== '') input.sudoPassword = values.sudoPassword;
  return input;
}

export type HostChanges = z.input<typeof HostChangesSchema>;

/**
 * The `hosts.update` changes: only what differs from the stored host. Credentials are
 * sent only when the method or key file changed or a new secret (a key's text too) was
 * typed; an empty secret field keeps the sealed one.
 */
export function hostChangesFromForm(values: HostFormValues, host: HostSummary): HostChanges {
  const next = hostInputFromForm(values);
  const changes: HostChanges = {};
  if (next.name !== host.name) changes.name = next.name;
  if (next.address !== host.address) changes.address = next.address;
  if (next.port !== host.port) changes.port = next.port;
  if (next.user !== host.user) changes.user = next.user;
  if ((next.jumpHostId ?? null) !== host.jumpHostId) changes.jumpHostId = next.jumpHostId ?? null;
  if ((next.role ?? null) !== host.role) changes.role = next.role ?? null;
  const labels = next.labels ?? [];
  if (labels.join('\n') !== host.labels.join('\n')) changes.labels = labels;

  const sameMethod = values.authMethod === host.authMethod;
  const waiting = waitsForKey(host);
  const authChanged =
    !sameMethod ||
    (values.authMethod === 'key' &&
      values.keySource === 'file' &&
      (values.keyPath.trim() !== (host.keyPath ?? '') || values.passphrase !== '')) ||
    (values.authMethod === 'key' &&
      values.keySource === 'text' &&
      ((!host.keyStored && !waiting) || values.privateKey !== '' || values.passphrase !== '')) ||
    (values.authMethod === 'password' && values.password !== '');
  if (authChanged) changes.auth = authFromForm(values);

  if (values.forgetSudoPassword) changes.sudoPassword = null;
  else if (values.sudoPassword !== '') changes.sudoPassword = values.sudoPassword;
  return changes;
}

/**
 * A key login with neither a key file nor a stored key: imported without one (a browser's host
 * list, a configuration file without its secrets); its logins are refused until one is pasted.
 */
function waitsForKey(host: HostSummary): boolean {
  return host.authMethod === 'key' && host.keyPath === null && !host.keyStored;
}

/** Where an issue of the contract's schemas belongs in the form. */
export function fieldOfPath(path: readonly PropertyKey[]): HostFormField {
  const [first, second] = path;
  if (first === 'auth') {
    if (second === 'keyPath' || second === 'privateKey' || second === 'passphrase' || second === 'password') return second;
    return 'authMethod';
  }
  switch (first) {
    case 'name':
    case 'address':
    case 'port':
    case 'user':
    case 'sudoPassword':
    case 'jumpHostId':
    case 'role':
    case 'labels':
      return first;
    default:
      return 'form';
  }
}

interface IssueLike {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  received?: string;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** zod's generic wording replaced where an operator would not read it as meant. */
function messageOf(issue: IssueLike, labels: string[]): string {
  const field = fieldOfPath(issue.path);
  if (issue.code === 'too_small' && issue.origin === 'string' && Number(issue.minimum) === 1) return 'Required.';
  if (issue.code === 'too_big' && issue.origin === 'string') return `At most ${String(issue.maximum)} characters.`;
  if (issue.code === 'too_big' && issue.origin === 'array' && field === 'labels') return `At most ${String(issue.maximum)} labels.`;
  if (field === 'port' && issue.code === 'invalid_type') return 'A port is a number from 1 to 65535.';
  if (field === 'authMethod') return 'Choose how to log in: private key, SSH agent or password.';
  if (field === 'privateKey' && issue.code === 'too_big') return sentence(issue.message);
  if (field === 'labels' && typeof issue.path[1] === 'number') {
    const label = labels[issue.path[1]] ?? '';
    return sentence(`"${label}": ${issue.message}`);
  }
  return sentence(issue.message);
}

/** One message per field (the first the schema reported), keyed by form field. */
export function fieldErrorsFromIssues(issues: readonly IssueLike[], labels: string[] = []): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of issues) {
    const field = fieldOfPath(issue.path);
    if (errors[field] === undefined) errors[field] = messageOf(issue, labels);
  }
  return errors;
}

const REQUIRED_TEXT: Array<'name' | 'address' | 'user'> = ['name', 'address', 'user'];

/** Empty fields say "Required." rather than the pattern they failed. */
function requiredErrors(values: HostFormValues, { secretsOptional, keyKept }: { secretsOptional: boolean; keyKept: boolean }): FieldErrors {
  const errors: FieldErrors = {};
  for (const field of REQUIRED_TEXT) if (values[field].trim() === '') errors[field] = 'Required.';
  if (values.port.trim() === '') errors.port = 'Required.';
  if (values.authMethod === 'key' && values.keySource === 'file' && values.keyPath.trim() === '')
    errors.keyPath = 'Required: the private key file on this machine.';
  if (
    values.authMethod === 'key' &&
    values.keySource === 'text' &&
    values.privateKey.trim() === '' &&
    !(keyKept && values.passphrase === '')
  )
    errors.privateKey = keyKept
      ? 'Paste the key again to change its passphrase (the stored key is never sent back).'
      : 'Required: paste the private key, or read it from a file on your computer.';
  if (values.authMethod === 'password' && values.password === '' && !secretsOptional) errors.password = 'Required.';
  return errors;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

/** Checks the add form with the contract's own schema, so the form and the backend agree. */
export function validateNewHost(values: HostFormValues): Validation<HostInput> {
  const input = hostInputFromForm(values);
  const parsed = HostInputSchema.safeParse(input);
  const errors = {
    ...(parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues, input.labels ?? [])),
    ...requiredErrors(values, { secretsOptional: false, keyKept: false }),
  };
  return Object.keys(errors).length === 0 ? { ok: true, value: input } : { ok: false, errors };
}

/** Checks the edit form: the changes against the contract's changes schema. */
export function validateHostChanges(values: HostFormValues, host: HostSummary): Validation<HostChanges> {
  const changes = hostChangesFromForm(values, host);
  const parsed = HostChangesSchema.safeParse(changes);
  // Switching to password login needs a password; keeping it does not (the sealed one stays).
  const secretsOptional = values.authMethod === host.authMethod && host.hasSecret;
  const errors = {
    ...(parsed.success ? {} : fieldErrorsFromIssues(parsed.error.issues, changes.labels ?? [])),
    // A host waiting for its key (imported without one) may be edited before the key is pasted.
    ...requiredErrors(values, { secretsOptional, keyKept: host.authMethod === 'key' && (host.keyStored || waitsForKey(host)) }),
  };
  return Object.keys(errors).length === 0 ? { ok: true, value: changes } : { ok: false, errors };
}

/** Backend refusals that belong to one field, so the form can point at it. */
export function fieldOfErrorCode(code: string): HostFormField | null {
  switch (code) {
    case 'HOST_NAME_TAKEN':
      return 'name';
    case 'KEY_FILE_UNREADABLE':
      return 'keyPath';
    case 'KEY_TEXT_INVALID':
      return 'privateKey';
    case 'KEY_PASSPHRASE_WRONG':
      return 'passphrase';
    default:
      return null;
  }
}
