import type { SecretVault } from '../../secrets/secret-vault';
import type { InstallsRepo } from '../../store/installs-repo';
import { issueInstallClientTls, runtimeListenOf } from '../install-runtime-access';
import { linkRemovedError } from '../link/link-errors';
import type { FleetLinks, LinkConsumer, LinkTarget } from '../link/link-types';
import type { ConnectionSource } from '../processes/connection-source';
import { DEFAULT_CALL_TIMEOUT_MS, type RuntimeConnection } from '../runtime-connection';
import type { RuntimeCredentials } from './runtime-credentials';

/**
 * Keeps each runtime's access state current while its link is up: pushes it when the link
 * comes up, again whenever operators or keys change (RuntimeCredentials.onChange: the
 * backend also calls it within a second of another process's commit, such as the CLI's
 * `operators remove` or `access rotate-key`, store/foreign-commits.ts), and checks every
 * `recheckMs` for a change nothing announced (a policy file edited on disk). A failed push
 * fails the consumer: the link shows it degraded with the reason and runs it again after its
 * backoff.
 */
export const ACCESS_STATE_RECHECK_MS = 20_000;

export interface AccessStateConsumerDeps {
  credentials: RuntimeCredentials;
  /** A connection allowed to call SetAccessState (admin), closed after the push. */
  openAdminChannel(target: LinkTarget): Promise<RuntimeConnection>;
  recheckMs?: number;
}

export function createAccessStateConsumer(deps: AccessStateConsumerDeps): LinkConsumer {
  const recheckMs = deps.recheckMs ?? ACCESS_STATE_RECHECK_MS;
  return {
    name: 'access',
    async run(target, _connection, signal) {
      let held: string | null = null;
      let wake: (() => void) | null = null;
      // A change told while a push is under way is not lost: the loop looks again before it waits.
      let dirty: boolean;
      const stopListening = deps.credentials.onChange(() => {
        dirty = true;
        wake?.();
      });
      try {
        while (!signal.aborted) {
          dirty = false;
          const state = deps.credentials.stateFor(target);
          if (state !== null && String(state.version) !== held) {
            const admin = await deps.openAdminChannel(target);
            try {
              await admin.setAccessState(state);
            } finally {
              await admin.close();
            }
            deps.credentials.pushed(target, state);
            held = String(state.version);
          }
          if (dirty) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(done, recheckMs);
            signal.addEventListener('abort', done, { once: true });
            wake = done;
            function done(): void {
              clearTimeout(timer);
              signal.removeEventListener('abort', done);
              wake = null;
              resolve();
            }
          });
        }
      } finally {
        stopListening();
      }
    },
  };
}

/** The admin channel over a link: a fresh short-lived admin certificate of the install, the runtime where its host's config says. */
export function linkAdminChannels(deps: {
  links: () => Pick<FleetLinks, 'openChannel'>;
  installs: Pick<InstallsRepo, 'findByName' | 'host'>;
  vault: SecretVault;
}): (target: LinkTarget) => Promise<RuntimeConnection> {
  return async (target) => {
    const install = deps.installs.findByName(target.installName);
    const host = install && deps.installs.host(install.id, target.hostId);
    if (!install || !host) throw linkRemovedError(target);
    const tls = await issueInstallClientTls(deps.vault, install, {
      role: 'admin',
      validityDays: 1,
      purpose: `Telling the runtimes of ${install.name} who may call them`,
    });
    const listen = runtimeListenOf(host);
    return deps.links().openChannel(target.hostId, {
      tls,
      runtimeAddress: listen.address,
      runtimePort: listen.port,
      callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
    });
  };
}

/**
 * One push of `target`'s state over a connection of its own (a one-shot command's backend,
 * which keeps no links): what RuntimeCredentials.pushNow does before an operator's call.
 */
export function pushAccessStateOnce(
  credentials: () => Pick<RuntimeCredentials, 'stateFor' | 'pushed'>,
  adminConnections: ConnectionSource,
): (target: LinkTarget) => Promise<void> {
  return async (target) => {
    const state = credentials().stateFor(target);
    if (state === null) throw linkRemovedError(target);
    const borrowed = await adminConnections.borrow(target.hostId);
    try {
      await borrowed.connection.setAccessState(state);
    } finally {
      await borrowed.release();
    }
    credentials().pushed(target, state);
  };
}
