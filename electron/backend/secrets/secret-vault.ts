import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '../../contract';
import { CURRENT_KDF, deriveKey, deriveKeySync, kdfText, parseKdf, weakerThanCurrent, type ScryptParams } from './passphrase-kdf';
import { open, seal } from './sealed-box';

/**
 * How an operator opens a locked vault, wherever a locked vault stops an action: one text,
 * so the window's prompt and the CLI's variables are named alike in every refusal.
 */
export const UNLOCK_VAULT_REMEDY =
  'In web mode, choose "Unlock the vault" on this notice (or start it with SUTAZAI_PASSPHRASE or --passphrase-file); from the command line, set SUTAZAI_PASSPHRASE or --passphrase-file to the passphrase that protects this data directory. The desktop app opens it with the OS secret store.';

/**
 * Where the vault key comes from: the OS secret store (the desktop shell unwraps a
 * random key with Electron's safeStorage and hands it over), or a passphrase the
 * operator controls (web mode, CLI, tests), stretched with scrypt (passphrase-kdf.ts).
 */
export type VaultKeySource = { kind: 'os-secret-store'; key: Buffer } | { kind: 'passphrase'; passphrase: string };

/** A new passphrase (a new vault's, or a changed one) needs this many characters; an older, shorter one still opens its vault. */
export const MIN_NEW_PASSPHRASE_LENGTH = 12;
const VERIFIER_TEXT = 'sutazai-vault-v1';

export interface UnlockOutcome {
  /** The vault was re-sealed with the current key-stretching parameters (it had weaker ones). */
  upgraded: boolean;
  /** Set when the passphrase opens the vault but is shorter than a new one may be. */
  warning: { message: string; remedy: string } | null;
}

export interface SecretVault {
  readonly unlocked: boolean;
  /** Opens the vault (creating it on a data directory that has none); derives the key on this thread. */
  unlock(source: VaultKeySource): UnlockOutcome;
  /** The same as unlock, with the key derived off the event loop (a serving backend keeps answering meanwhile). */
  unlockAsync(source: VaultKeySource): Promise<UnlockOutcome>;
  /**
   * Re-seals every secret under a new passphrase, in one transaction: afterwards only the
   * new passphrase opens the vault. Leaves this vault unlocked with the new key.
   */
  changePassphrase(current: string, next: string): Promise<{ resealed: number; unreadable: number }>;
  /** Throws SECRETS_LOCKED (or the vault's other refusal) when store and reveal would. */
  requireUnlocked(): void;
  /** Seals a secret and returns its row id; the clear value never touches the database. */
  store(purpose: string, plaintext: string, now: number): number;
  /**
   * Opens a secret. With `purpose`, a row sealed for another purpose is refused, so a
   * mixed-up id cannot hand one kind of secret to code that expects another.
   */
  reveal(secretId: number, purpose?: string): string;
  remove(secretId: number): void;
}

interface VaultRow {
  key_source: string;
  salt: Buffer;
  verifier: Buffer;
  kdf: string | null;
}

/** What an unlock needs before the (slow) key derivation, and what it checks after. */
interface Opening {
  row: VaultRow | null;
  /** Null for a key from the OS secret store, which is used as it is. */
  params: ScryptParams | null;
  salt: Buffer;
}

export function createSecretVault(db: Database.Database): SecretVault {
  let key: Buffer | null = null;
  /** The verifier the key was checked against: when another process re-seals the vault, it changes and this key is stale. */
  let opened: Buffer | null = null;
  const selectVault = db.prepare<[], VaultRow>('SELECT key_source, salt, verifier, kdf FROM vault WHERE id = 1');
  const selectVerifier = db.prepare<[], { verifier: Buffer }>('SELECT verifier FROM vault WHERE id = 1');
  const insertVault = db.prepare('INSERT OR IGNORE INTO vault (id, key_source, salt, verifier, kdf, created_at) VALUES (1, ?, ?, ?, ?, ?)');
  const updateVault = db.prepare('UPDATE vault SET salt = ?, verifier = ?, kdf = ? WHERE id = 1');
  const insertSecret = db.prepare('INSERT INTO secrets (purpose, scheme, sealed, created_at) VALUES (?, ?, ?, ?)');
  const selectSecret = db.prepare<[number], { purpose: string; sealed: Buffer }>('SELECT purpose, sealed FROM secrets WHERE id = ?');
  const selectAllSecrets = db.prepare<[], { id: number; purpose: string; sealed: Buffer }>('SELECT id, purpose, sealed FROM secrets');
  const deleteSecret = db.prepare('DELETE FROM secrets WHERE id = ?');
  const updateSealed = db.prepare('UPDATE secrets SET sealed = ? WHERE id = ?');
  const storeTx = db.transaction((k: Buffer, purpose: string, plaintext: string, now: number): number => {
    const id = Number(insertSecret.run(purpose, 'aes-256-gcm', Buffer.alloc(0), now).lastInsertRowid);
    updateSealed.run(seal(k, plaintext, `${id}:${purpose}`), id);
    return id;
  });
  /** Every secret and the verifier move from one key to another at once, or not at all. */
  const rekeyTx = db.transaction((from: Buffer, expectedVerifier: Buffer, to: Buffer, salt: Buffer, params: ScryptParams) => {
    if (!selectVerifier.get()?.verifier.equals(expectedVerifier)) throw changedElsewhereError();
    let resealed = 0;
    let unreadable = 0;
    for (const row of selectAllSecrets.all()) {
      const value = open(from, row.sealed, `${row.id}:${row.purpose}`);
      // A value that does not open (altered on disk) stays as it is: it never opened before either.
      if (value === null) unreadable++;
      else {
        updateSealed.run(seal(to, value, `${row.id}:${row.purpose}`), row.id);
        resealed++;
      }
    }
    const verifier = seal(to, VERIFIER_TEXT, 'vault');
    updateVault.run(salt, verifier, kdfText(params));
    return { resealed, unreadable, verifier };
  });

  function rekey(
    from: Buffer,
    expectedVerifier: Buffer,
    to: Buffer,
    salt: Buffer,
    params: ScryptParams,
  ): { resealed: number; unreadable: number } {
    const { resealed, unreadable, verifier } = rekeyTx.immediate(from, expectedVerifier, to, salt, params);
    key = to;
    opened = verifier;
    return { resealed, unreadable };
  }

  function beginUnlock(source: VaultKeySource): Opening {
    if (source.kind === 'os-secret-store' && source.key.length !== 32) {
      throw new ApiError(
        'SECRETS_LOCKED',
        'The key from the OS secret store has the wrong length.',
        'Restart the app; if it persists, report it.',
      );
    }
    const row = selectVault.get() ?? null;
    if (!row) {
      // First unlock of this data directory: this source becomes its key.
      if (source.kind === 'passphrase') requireNewPassphrase(source.passphrase);
      return { row: null, params: source.kind === 'passphrase' ? CURRENT_KDF : null, salt: randomBytes(16) };
    }
    if (row.key_source !== source.kind) {
      throw new ApiError(
        'SECRETS_PASSPHRASE_WRONG',
        `This data directory's secrets are sealed with ${row.key_source === 'passphrase' ? 'an operator passphrase' : 'the OS secret store of the desktop app'}, not ${source.kind === 'passphrase' ? 'a passphrase' : 'the OS secret store'}.`,
        row.key_source === 'passphrase'
          ? 'Set SUTAZAI_PASSPHRASE to the passphrase chosen when the first secret was stored.'
          : 'Open this data directory with the desktop app that created it.',
      );
    }
    return { row, params: source.kind === 'passphrase' ? storedParams(row) : null, salt: row.salt };
  }

  /** Checks the derived key (or records it, for a new vault); says whether the vault should be re-sealed with stronger parameters. */
  function finishUnlock(source: VaultKeySource, opening: Opening, derived: Buffer): boolean {
    if (!opening.row) {
      const verifier = seal(derived, VERIFIER_TEXT, 'vault');
      const made = insertVault.run(
        source.kind,
        opening.salt,
        verifier,
        opening.params ? kdfText(opening.params) : null,
        Date.now(),
      ).changes;
      if (made === 0)
        throw new ApiError(
          'SECRETS_LOCKED',
          'Another process set up this data directory’s vault at the same moment.',
          'Try again: the vault it made is the one to unlock.',
        );
      key = derived;
      opened = verifier;
      return false;
    }
    if (open(derived, opening.row.verifier, 'vault') !== VERIFIER_TEXT) throw wrongPassphraseError();
    key = derived;
    opened = opening.row.verifier;
    return opening.params !== null && weakerThanCurrent(opening.params);
  }

  function outcome(source: VaultKeySource, upgraded: boolean): UnlockOutcome {
    const short = source.kind === 'passphrase' && passphraseLength(source.passphrase) < MIN_NEW_PASSPHRASE_LENGTH;
    return {
      upgraded,
      warning: short
        ? {
            message: `The vault passphrase has fewer than ${MIN_NEW_PASSPHRASE_LENGTH} characters; it still opens this data directory, but a copy of the database can be guessed offline far sooner.`,
            remedy: `Change it: sutazai vault change-passphrase (the new one needs ${MIN_NEW_PASSPHRASE_LENGTH} characters or more).`,
          }
        : null,
    };
  }

  const requireKey = (): Buffer => {
    if (key && opened) {
      if (selectVerifier.get()?.verifier.equals(opened)) return key;
      key = null;
      opened = null;
      throw changedElsewhereError();
    }
    throw new ApiError('SECRETS_LOCKED', 'Stored passwords and passphrases are sealed and the vault is not unlocked.', UNLOCK_VAULT_REMEDY);
  };

  return {
    get unlocked() {
      return key !== null;
    },
    unlock(source) {
      const opening = beginUnlock(source);
      const derived = source.kind === 'passphrase' ? deriveKeySync(source.passphrase, opening.salt, opening.params!) : source.key;
      const upgrade = finishUnlock(source, opening, derived);
      if (upgrade && source.kind === 'passphrase') {
        const salt = randomBytes(16);
        rekey(derived, opened!, deriveKeySync(source.passphrase, salt, CURRENT_KDF), salt, CURRENT_KDF);
      }
      return outcome(source, upgrade);
    },
    async unlockAsync(source) {
      const opening = beginUnlock(source);
      const derived = source.kind === 'passphrase' ? await deriveKey(source.passphrase, opening.salt, opening.params!) : source.key;
      const upgrade = finishUnlock(source, opening, derived);
      if (upgrade && source.kind === 'passphrase') {
        const salt = randomBytes(16);
        rekey(derived, opened!, await deriveKey(source.passphrase, salt, CURRENT_KDF), salt, CURRENT_KDF);
      }
      return outcome(source, upgrade);
    },
    async changePassphrase(current, next) {
      const row = selectVault.get();
      if (!row) {
        throw new ApiError(
          'SECRETS_LOCKED',
          'This data directory has no vault yet, so there is no passphrase to change.',
          'Nothing is sealed yet: the passphrase given when the first secret is stored (SUTAZAI_PASSPHRASE or --passphrase-file) becomes the vault’s.',
        );
      }
      if (row.key_source !== 'passphrase') {
        throw new ApiError(
          'SECRETS_PASSPHRASE_WRONG',
          'This data directory’s secrets are sealed with the OS secret store of the desktop app, not a passphrase.',
          'There is no passphrase to change: the desktop app keeps the key in the OS secret store.',
        );
      }
      requireNewPassphrase(next);
      if (next.normalize('NFC') === current.normalize('NFC')) {
        throw new ApiError(
          'SECRETS_PASSPHRASE_WEAK',
          'The new vault passphrase is the same as the current one.',
          'Choose a different new passphrase.',
        );
      }
      const old = await deriveKey(current, row.salt, storedParams(row));
      if (open(old, row.verifier, 'vault') !== VERIFIER_TEXT) throw wrongPassphraseError();
      const salt = randomBytes(16);
      return rekey(old, row.verifier, await deriveKey(next, salt, CURRENT_KDF), salt, CURRENT_KDF);
    },
    requireUnlocked() {
      requireKey();
    },
    store(purpose, plaintext, now) {
      const k = requireKey();
      // The row id and purpose are bound into the seal, so a sealed value cannot be
      // swapped into another host's slot.
      return storeTx(k, purpose, plaintext, now);
    },
    reveal(secretId, purpose) {
      const k = requireKey();
      const row = selectSecret.get(secretId);
      if (row && purpose !== undefined && row.purpose !== purpose) {
        throw new ApiError(
          'SECRETS_LOCKED',
          `Stored secret ${secretId} was sealed for ${row.purpose}, not for ${purpose}.`,
          'This is a defect of the app (a secret id was mixed up): report it with the app log.',
        );
      }
      const value = row ? open(k, row.sealed, `${secretId}:${row.purpose}`) : null;
      if (value === null) {
        throw new ApiError(
          'SECRETS_LOCKED',
          `Stored secret ${secretId} is missing or cannot be opened.`,
          'Enter the password or passphrase again in the host settings.',
        );
      }
      return value;
    },
    remove(secretId) {
      deleteSecret.run(secretId);
    },
  };
}

function passphraseLength(passphrase: string): number {
  return [...passphrase.normalize('NFC')].length;
}

function requireNewPassphrase(passphrase: string): void {
  if (passphraseLength(passphrase) < MIN_NEW_PASSPHRASE_LENGTH) {
    throw new ApiError(
      'SECRETS_PASSPHRASE_WEAK',
      `A new vault passphrase needs at least ${MIN_NEW_PASSPHRASE_LENGTH} characters (it got ${passphraseLength(passphrase)}).`,
      `Choose a longer one: ${MIN_NEW_PASSPHRASE_LENGTH} characters or more, for example four unrelated words.`,
    );
  }
}

function storedParams(row: VaultRow): ScryptParams {
  const params = parseKdf(row.kdf);
  if (params) return params;
  throw new ApiError(
    'SECRETS_LOCKED',
    `The vault’s key-stretching parameters (${String(row.kdf).slice(0, 80)}) are not ones this version of the app can use.`,
    'The data directory was written by a newer app, or damaged: open it with the version that wrote it, or restore it from a backup.',
  );
}

function wrongPassphraseError(): ApiError {
  return new ApiError(
    'SECRETS_PASSPHRASE_WRONG',
    'The passphrase does not open this data directory’s secrets.',
    "Use the passphrase chosen when the first secret was stored (in web mode's Unlock the vault prompt, SUTAZAI_PASSPHRASE or --passphrase-file).",
  );
}

function changedElsewhereError(): ApiError {
  return new ApiError(
    'SECRETS_LOCKED',
    'The vault passphrase was changed by another process after this one unlocked it.',
    `Unlock again with the new passphrase. ${UNLOCK_VAULT_REMEDY}`,
  );
}
