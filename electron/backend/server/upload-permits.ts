import { createHash, randomBytes } from 'node:crypto';
import type { UploadKind } from './one-time-files';

/** How long a permit waits for its upload to start: the page asks for it just before it sends. */
export const UPLOAD_PERMIT_MS = 60_000;
/** Permits held at once, every pipe together: past it the oldest goes. */
const MAX_PERMITS = 256;

/** Who an upload comes from, as the permit's pipe was signed in when it asked (undefined: no operator, the bootstrap). */
export interface PermitHolder {
  readonly operatorId: number | undefined;
}

/**
 * Leave for one upload in loopback web mode. There every tab of the launch token signs in on
 * its own socket, and the upload (a plain HTTP request) carries only the token, which says
 * nothing of which tab, so nothing of which operator. The page asks its socket for a permit
 * (uploads.permit) just before it sends, and the upload brings it back (X-SutazAI-Upload-Permit):
 * the upload is then checked against that operator's role and access policy, as the method it
 * is for would be. Single use, for one kind, for one pipe identity, for a minute; kept only as
 * its SHA-256.
 */
export interface UploadPermits {
  issue(actor: string, kind: UploadKind, holder: PermitHolder): { permit: string; expiresAt: number };
  /** The holder of `permit` for an upload of `kind` by `actor`, forgotten as it is taken (null: unknown, used, expired, another's). */
  take(permit: string, actor: string, kind: UploadKind): PermitHolder | null;
}

export function createUploadPermits(deps: { now: () => number }): UploadPermits {
  const held = new Map<string, { actor: string; kind: UploadKind; holder: PermitHolder; expiresAt: number }>();
  const keyOf = (permit: string) => createHash('sha256').update(permit, 'utf8').digest('hex');
  return {
    issue(actor, kind, holder) {
      const at = deps.now();
      for (const [key, entry] of held) if (entry.expiresAt <= at) held.delete(key);
      while (held.size >= MAX_PERMITS) held.delete(held.keys().next().value!);
      const permit = randomBytes(32).toString('base64url');
      const expiresAt = at + UPLOAD_PERMIT_MS;
      held.set(keyOf(permit), { actor, kind, holder, expiresAt });
      return { permit, expiresAt };
    },
    take(permit, actor, kind) {
      const key = keyOf(permit);
      const entry = held.get(key);
      if (entry === undefined) return null;
      // Taken whatever it is for: a permit offered once for the wrong kind is not tried again.
      held.delete(key);
      return entry.actor === actor && entry.kind === kind && entry.expiresAt > deps.now() ? entry.holder : null;
    },
  };
}
