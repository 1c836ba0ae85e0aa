import type { InstallEngine } from '../../install/engine/install-engine';
import type { FleetLinks } from './link-types';

/**
 * The install engine, with the links following what it records: after each apply,
 * rollback and uninstall (succeeded or not: a failed apply may have installed some hosts)
 * the links are read again from the store, so a new host's link starts and a removed
 * host's link stops. Every way to run those (install files, API jobs, operations) goes
 * through the engine, so none can leave the links behind.
 */
export function followInstalls(engine: InstallEngine, links: Pick<FleetLinks, 'refresh'>): InstallEngine {
  const thenRefresh = async <T>(run: Promise<T>): Promise<T> => {
    try {
      return await run;
    } finally {
      await links.refresh();
    }
  };
  return {
    plan: (file, options) => engine.plan(file, options),
    apply: (file, options) => thenRefresh(engine.apply(file, options)),
    rollback: (file, options) => thenRefresh(engine.rollback(file, options)),
    uninstall: (file, options) => thenRefresh(engine.uninstall(file, options)),
  };
}
