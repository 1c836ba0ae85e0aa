import { createHash, randomBytes } from 'node:crypto';

/**
 * Sign-in tickets held in the backend's memory while a sign-in waits for a two-factor code (a
 * provider sign-in's second step, a forced enrolment's first code): 256 random bits handed to
 * the browser or window once, kept here only as their SHA-256 (a lookup compares no secret byte
 * by byte, and a memory dump shows no usable ticket), each for a fixed time and a fixed number
 * of wrong codes, at most `max` at once (the oldest goes first, so a flood evicts itself).
 */
export interface SignInTickets<T extends object> {
  open(value: T): { ticket: string; expiresAt: number };
  /** The live ticket's value (the held object: changes to it stay), or undefined (unknown, expired, used, out of tries). */
  find(ticket: string): (T & { readonly expiresAt: number }) | undefined;
  /** A wrong code on `ticket`: the tries it has left (0: it has ended). */
  failed(ticket: string): number;
  close(ticket: string): void;
  /** Ends every ticket whose value matches. */
  closeWhere(matches: (value: T) => boolean): void;
}

export function createSignInTickets<T extends object>(options: {
  now: () => number;
  lifetimeMs: number;
  tries: number;
  max: number;
}): SignInTickets<T> {
  type Held = { value: T & { expiresAt: number }; triesLeft: number };
  const held = new Map<string, Held>();
  const keyOf = (ticket: string) => createHash('sha256').update(ticket, 'utf8').digest('hex');
  const live = (ticket: string): Held | undefined => {
    const key = keyOf(ticket);
    const entry = held.get(key);
    if (entry === undefined) return undefined;
    if (entry.value.expiresAt > options.now()) return entry;
    held.delete(key);
    return undefined;
  };

  return {
    open(value) {
      const at = options.now();
      for (const [key, entry] of held) if (entry.value.expiresAt <= at) held.delete(key);
      // Insertion order is age order: the first key is the oldest.
      while (held.size >= options.max) held.delete(held.keys().next().value!);
      const ticket = randomBytes(32).toString('base64url');
      const expiresAt = at + options.lifetimeMs;
      held.set(keyOf(ticket), { value: { ...value, expiresAt }, triesLeft: options.tries });
      return { ticket, expiresAt };
    },
    find: (ticket) => live(ticket)?.value,
    failed(ticket) {
      const entry = live(ticket);
      if (entry === undefined) return 0;
      entry.triesLeft -= 1;
      if (entry.triesLeft <= 0) held.delete(keyOf(ticket));
      return Math.max(0, entry.triesLeft);
    },
    close(ticket) {
      held.delete(keyOf(ticket));
    },
    closeWhere(matches) {
      for (const [key, entry] of held) if (matches(entry.value)) held.delete(key);
    },
  };
}
