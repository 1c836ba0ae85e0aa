import { describe, expect, it } from 'vitest';
import type { HostSummary } from '../../../electron/contract';
import {
  EMPTY_HOST_FORM,
  fieldErrorsFromIssues,
  fieldOfErrorCode,
  fieldOfPath,
  formFromHost,
  hostChangesFromForm,
  hostInputFromForm,
  parseLabels,
  validateHostChanges,
  validateNewHost,
  type HostFormValues,
} from '../../../renderer/src/hosts/host-form';

/** A key's shape, for the form (the form never parses it; the backend does). */
const KEY_TEXT = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';

const good: HostFormValues = {
  ...EMPTY_HOST_FORM,
  name: 'db-2',
  address: '10.0.0.12',
  user: 'ops',
  keySource: 'file',
  keyPath: '~/.ssh/id_ed25519',
  labels: 'gpu, rack=b4,,',
};

const stored: HostSummary = {
  id: 7,
  name: 'db-2',
  kind: 'ssh',
  address: '10.0.0.12',
  createdAt: 1,
  lastProbedAt: null,
  os: null,
  cpuModel: null,
  cpuThreads: null,
  memoryBytes: null,
  gpuCount: null,
  port: 22,
  user: 'ops',
  authMethod: 'password',
  keyPath: null,
  keyStored: false,
  hasSecret: true,
  jumpHostId: null,
  role: null,
  labels: ['gpu'],
  hostKey: null,
  lastProbe: null,
};

describe('hostInputFromForm', () => {
  it('turns the typed text into hosts.add params', () => {
    expect(hostInputFromForm({ ...good, passphrase: 'pw', sudoPassword: 's', jumpHostId: '3', role: 'agent' })).toEqual({
      name: 'db-2',
      address: '10.0.0.12',
      port: 22,
      user: 'ops',
      auth: { method: 'key', keyPath: '~/.ssh/id_ed25519', passphrase: 'pw' },
      sudoPassword: 's',
      jumpHostId: 3,
      role: 'agent',
      labels: ['gpu', 'rack=b4'],
    });
  });

  it('leaves optional secrets out when empty', () => {
    const input = hostInputFromForm(good);
    expect(input.auth).toEqual({ method: 'key', keyPath: '~/.ssh/id_ed25519' });
    expect('sudoPassword' in input).toBe(false);
  });

  it('splits labels on commas and drops blanks', () => {
    expect(parseLabels(' a , b,, c ')).toEqual(['a', 'b', 'c']);
    expect(parseLabels('')).toEqual([]);
  });
});

describe('validateNewHost', () => {
  it('accepts a complete form', () => {
    expect(validateNewHost(good).ok).toBe(true);
  });

  it('puts each schema issue on its field, in words an operator reads', () => {
    const result = validateNewHost({ ...good, name: '-bad', port: '70000', user: 'a b', labels: 'ok, bad label' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.name).toMatch(/^Use letters, digits/);
    expect(result.errors.port).toBe('A port is 1 to 65535.');
    expect(result.errors.user).toBe('A POSIX user name.');
    expect(result.errors.labels).toMatch(/^"bad label": use letters/);
    expect(result.errors.address).toBeUndefined();
  });

  it('says "Required." for empty fields instead of the pattern they miss', () => {
    const result = validateNewHost({ ...EMPTY_HOST_FORM, port: '' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toMatchObject({ name: 'Required.', address: 'Required.', user: 'Required.', port: 'Required.' });
    // A new host's key is its text by default (the one way web mode has).
    expect(result.errors.privateKey).toMatch(/^Required: paste the private key/);
    expect(result.errors.keyPath).toBeUndefined();
  });

  it('sends a pasted key as keyText, with its passphrase when one was typed', () => {
    const text = { ...good, keySource: 'text' as const, privateKey: KEY_TEXT };
    expect(hostInputFromForm(text).auth).toEqual({ method: 'keyText', privateKey: KEY_TEXT });
    expect(hostInputFromForm({ ...text, passphrase: 'pw' }).auth).toEqual({ method: 'keyText', privateKey: KEY_TEXT, passphrase: 'pw' });
    expect(validateNewHost(text).ok).toBe(true);
  });

  it('asks for the password when password login is chosen, not for a key file', () => {
    const result = validateNewHost({ ...good, authMethod: 'password', keyPath: '' });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual({ password: 'Required.' });
  });

  it('refuses a port that is not a number', () => {
    const result = validateNewHost({ ...good, port: '22a' });
    expect(!result.ok && result.errors.port).toBe('A port is a number from 1 to 65535.');
  });
});

describe('fieldOfPath and fieldErrorsFromIssues', () => {
  it('maps contract paths to form fields', () => {
    expect(fieldOfPath(['auth', 'keyPath'])).toBe('keyPath');
    expect(fieldOfPath(['auth', 'password'])).toBe('password');
    expect(fieldOfPath(['auth', 'method'])).toBe('authMethod');
    expect(fieldOfPath(['labels', 2])).toBe('labels');
    expect(fieldOfPath(['jumpHostId'])).toBe('jumpHostId');
    expect(fieldOfPath(['somethingElse'])).toBe('form');
  });

  it('keeps the first issue of a field', () => {
    const errors = fieldErrorsFromIssues([
      { code: 'too_small', origin: 'string', minimum: 1, path: ['user'], message: 'x' },
      { code: 'invalid_format', path: ['user'], message: 'a POSIX user name' },
    ]);
    expect(errors).toEqual({ user: 'Required.' });
  });

  it('points backend refusals at their field', () => {
    expect(fieldOfErrorCode('HOST_NAME_TAKEN')).toBe('name');
    expect(fieldOfErrorCode('KEY_FILE_UNREADABLE')).toBe('keyPath');
    expect(fieldOfErrorCode('KEY_TEXT_INVALID')).toBe('privateKey');
    expect(fieldOfErrorCode('HOST_UNREACHABLE')).toBeNull();
  });
});

describe('hostChangesFromForm', () => {
  it('sends nothing when nothing changed, and never a stored secret', () => {
    expect(hostChangesFromForm(formFromHost(stored), stored)).toEqual({});
  });

  it('sends only the fields that differ', () => {
    const values = { ...formFromHost(stored), address: '10.0.0.13', labels: 'gpu, rack=b4', role: 'core' as const };
    expect(hostChangesFromForm(values, stored)).toEqual({ address: '10.0.0.13', labels: ['gpu', 'rack=b4'], role: 'core' });
  });

  it('replaces the password only when a new one was typed', () => {
    const values = { ...formFromHost(stored), password: 'n3w' };
    expect(hostChangesFromForm(values, stored)).toEqual({ auth: { method: 'password', password: 'n3w' } });
  });

  it('sends the new method when switching to a key file', () => {
    const values = { ...formFromHost(stored), authMethod: 'key' as const, keySource: 'file' as const, keyPath: '/keys/db2' };
    expect(hostChangesFromForm(values, stored)).toEqual({ auth: { method: 'key', keyPath: '/keys/db2' } });
  });

  it('keeps a stored key text unless a new key is pasted; a passphrase alone needs the key again', () => {
    const keyHost = { ...stored, authMethod: 'key' as const, keyStored: true, hasSecret: false };
    const form = formFromHost(keyHost);
    expect(form.keySource).toBe('text');
    expect(hostChangesFromForm(form, keyHost)).toEqual({});
    expect(validateHostChanges(form, keyHost)).toEqual({ ok: true, value: {} });
    expect(hostChangesFromForm({ ...form, privateKey: KEY_TEXT }, keyHost)).toEqual({ auth: { method: 'keyText', privateKey: KEY_TEXT } });
    const passphraseOnly = validateHostChanges({ ...form, passphrase: 'pw' }, keyHost);
    expect(!passphraseOnly.ok && passphraseOnly.errors.privateKey).toMatch(/^Paste the key again/);
    // A host on a key file edits as a file (the desktop app; web mode shows it kept).
    expect(formFromHost({ ...keyHost, keyStored: false, keyPath: '/keys/db2' }).keySource).toBe('file');
  });

  it('forgets the sudo password on request', () => {
    expect(hostChangesFromForm({ ...formFromHost(stored), forgetSudoPassword: true }, stored)).toEqual({ sudoPassword: null });
  });
});

describe('validateHostChanges', () => {
  it('keeps the stored password when the field stays empty', () => {
    expect(validateHostChanges(formFromHost(stored), stored)).toEqual({ ok: true, value: {} });
  });

  it('needs a password when switching to password login', () => {
    const agentHost: HostSummary = { ...stored, authMethod: 'agent', hasSecret: false };
    const result = validateHostChanges({ ...formFromHost(agentHost), authMethod: 'password' }, agentHost);
    expect(!result.ok && result.errors.password).toBe('Required.');
  });

  it('edits a key host waiting for its key (imported without one) without asking for the key, and sends it once pasted', () => {
    const waiting: HostSummary = { ...stored, authMethod: 'key', keyPath: null, keyStored: false, hasSecret: false };
    expect(validateHostChanges({ ...formFromHost(waiting), labels: 'gpu, rack=b4' }, waiting)).toEqual({
      ok: true,
      value: { labels: ['gpu', 'rack=b4'] },
    });
    expect(validateHostChanges({ ...formFromHost(waiting), privateKey: 'KEY TEXT' }, waiting)).toEqual({
      ok: true,
      value: { auth: { method: 'keyText', privateKey: 'KEY TEXT' } },
    });
  });

  it('checks changed fields against the changes schema', () => {
    const result = validateHostChanges({ ...formFromHost(stored), port: '0' }, stored);
    expect(!result.ok && result.errors.port).toBe('A port is 1 to 65535.');
  });
});
