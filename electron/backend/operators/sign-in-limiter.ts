import { isIP } from 'node:net';
import type Database from 'better-sqlite3';
import { ApiError } from '../../contract';

/**
 * How many failures a key may have before it waits, and how long: each failure past the
 * allowance doubles the wait, up to the cap. An operator's name gets few tries (a person
 * mistypes a few times; a guesser needs thousands); a source address gets more, since one
 * office behind one address holds many people.
 */
export interface LimiterPolicy {
  readonly operatorAllowance: number;
  readonly addressAllowance: number;
  readonly firstWaitMs: number;
  readonly maxWaitMs: number;
  /** A key with no failure for this long starts again from nothing. */
  readonly forgetAfterMs: number;
}

export const DEFAULT_LIMITER_POLICY: LimiterPolicy = {
  operatorAllowance: 5,
  addressAllowance: 20,
  firstWaitMs: 30_000,
  maxWaitMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/** Who tries: the operator name as typed (known or not: the limit must not tell them apart) and where from (addressKeyOf). */
export interface Attempt {
  readonly name: string;
  /** The source address (a browser's IP), or a fixed word for pipes that have none (`local`). */
  readonly address: string;
}

/**
 * Rate limiting of sign-ins and two-factor code guesses (issue 14, item 5), per operator
 * name and per source address, counted in the store so the desktop app, web mode and every
 * CLI command share one count. A try is counted as a failure when it begins, before the
 * password or code is looked at: many tries sent at once cannot all pass a check made before
 * the (slow) password hash of the first one is done. A throttled try is refused the same
 * whether it was right or not, so an attacker learns nothing from it.
 */
export interface SignInLimiter {
  /** Throws SIGN_IN_THROTTLED (with the wait) while the name or the address must wait; otherwise counts this try as failed. */
  begin(attempt: Attempt): void;
  /** The try was neither right nor wrong (the password was right and a code must follow): it no longer counts. */
  refund(attempt: Attempt): void;
  /** A right password (and code): the name's count starts again; the address's loses this try. */
  succeeded(attempt: Attempt): void;
}

export function createSignInLimiter(deps: { db: Database.Database; now: () => number; policy?: LimiterPolicy }): SignInLimiter {
  const { db, now } = deps;
  const policy = deps.policy ?? DEFAULT_LIMITER_POLICY;
  const select = db.prepare<[string], { failures: number; last_at: number; locked_until: number }>(
    'SELECT failures, last_at, locked_until FROM sign_in_failures WHERE key = ?',
  );
  const upsert = db.prepare(
    `INSERT INTO sign_in_failures (key, failures, first_at, last_at, locked_until) VALUES (@key, @failures, @at, @at, @lockedUntil)
     ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at, locked_until = excluded.locked_until`,
  );
  const remove = db.prepare('DELETE FROM sign_in_failures WHERE key = ?');
  const lower = db.prepare<[{ key: string; allowance: number }]>(
    `UPDATE sign_in_failures SET failures = failures - 1, locked_until = CASE WHEN failures - 1 < @allowance THEN 0 ELSE locked_until END
     WHERE key = @key AND failures > 0`,
  );
  const prune = db.prepare('DELETE FROM sign_in_failures WHERE last_at < ? AND locked_until < ?');

  const keysOf = (attempt: Attempt): Array<{ key: string; allowance: number }> => [
    { key: operatorKeyOf(attempt.name), allowance: policy.operatorAllowance },
    { key: `address:${addressKeyOf(attempt.address)}`, allowance: policy.addressAllowance },
  ];

  /** The failures still counted for `key` at `at` (none once forgotten). */
  const countOf = (key: string, at: number) => {
    const row = select.get(key);
    if (!row || row.last_at + policy.forgetAfterMs <= at) return { failures: 0, lockedUntil: 0 };
    return { failures: row.failures, lockedUntil: row.locked_until };
  };

  const waitAfter = (failures: number, allowance: number): number => {
    if (failures < allowance) return 0;
    return Math.min(policy.maxWaitMs, policy.firstWaitMs * 2 ** Math.min(failures - allowance, 20));
  };

  return {
    begin(attempt) {
      const at = now();
      const keys = keysOf(attempt);
      // One transaction from the look to the count: SQLite serialises writers, processes included.
      db.transaction(() => {
        const lockedUntil = Math.max(...keys.map(({ key }) => countOf(key, at).lockedUntil));
        if (lockedUntil > at) throw signInThrottled(lockedUntil - at);
        prune.run(at - policy.forgetAfterMs, at);
        for (const { key, allowance } of keys) {
          const failures = countOf(key, at).failures + 1;
          const wait = waitAfter(failures, allowance);
          upsert.run({ key, failures, at, lockedUntil: wait > 0 ? at + wait : 0 });
        }
      }).immediate();
    },
    refund(attempt) {
      db.transaction(() => {
        for (const key of keysOf(attempt)) lower.run(key);
      })();
    },
    succeeded(attempt) {
      const [name, address] = keysOf(attempt);
      db.transaction(() => {
        remove.run(name!.key);
        lower.run(address!);
      })();
    },
  };
}

/** The key a name's tries count against (names ignore case), also cleared by break-glass.ts. */
export function operatorKeyOf(name: string): string {
  return `operator:${name.trim().toLowerCase()}`;
}

/**
 * The source a try counts against. An IPv6 host is commonly given a whole /64 and may use any
 * address in it (privacy addresses change by design): counted address by address, one machine
 * would never reach the address allowance, so IPv6 counts by its /64. An IPv4 client on a
 * dual-stack socket (::ffff:a.b.c.d) counts as its IPv4 address; a word such as `local` as it is.
 */
export function addressKeyOf(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  const bare = address.split('%')[0]!; // a link-local address's zone (fe80::1%eth0) is not part of it
  if (isIP(bare) !== 6) return address;
  return `${ipv6Groups(bare.toLowerCase()).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of a valid IPv6 address, `::` expanded, each without leading zeros. */
function ipv6Groups(address: string): string[] {
  // An embedded IPv4 address (its last 32 bits) stands for two groups.
  const groupsOf = (text: string) => (text === '' ? [] : text.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])));
  const [head = '', tail] = address.split('::');
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}

/** The one answer while throttled: says how long to wait, never whether the name, password or code was right. */
export function signInThrottled(waitMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} minutes` : `${seconds} seconds`;
  return new ApiError(
    'SIGN_IN_THROTTLED',
    `Too many failed sign-ins or two-factor codes for this name or from this address; try again in ${wait}.`,
    `Wait ${wait}, then sign in with care; an admin can reset a forgotten password or two-factor sign-in on the Operators page.`,
    {
      cliRemedy: `Wait ${wait}; an admin can reset a password with \`sutazai operators set NAME --reset-password\` or two-factor sign-in with \`sutazai operators mfa reset NAME\`.`,
    },
  );
}
