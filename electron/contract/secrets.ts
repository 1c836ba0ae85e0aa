import { z } from 'zod';

/**
 * The vault of sealed secrets (SSH passwords, key passphrases, sudo passwords, the
 * install CA's key) as a client sees it: open or not, what seals it, and whether this
 * backend takes a passphrase to open it (web mode and the CLI do; the desktop app opens
 * it with the OS secret store).
 */
export const VaultStatusSchema = z.object({
  unlocked: z.boolean(),
  /** `none`: nothing sealed yet; the first passphrase given becomes this data directory's. */
  sealedWith: z.enum(['none', 'passphrase', 'os-secret-store']),
  acceptsPassphrase: z.boolean(),
});
export type VaultStatus = z.infer<typeof VaultStatusSchema>;

/** A passphrase as it crosses the API: only ever in the unlock request, never in a result or a log. */
export const VaultPassphraseSchema = z.string().min(1).max(1024);
