import type { MethodHandlers } from '../server/dispatcher';
import type { SupportService } from '../bundles/support-bundles/support-service';

export interface SupportApiDeps {
  support: SupportService;
}

type SupportMethod = Extract<keyof MethodHandlers, `support.${string}`>;

/** Support bundles: collect, preview the redactions, save, analyze (support/). */
export function createSupportHandlers({ support }: SupportApiDeps): Pick<MethodHandlers, SupportMethod> {
  return {
    // Collected as the signed-in operator: each runtime log read carries their token (as the Logs page's do).
    'support.collect': ({ target, logBytesPerProcess }, caller) =>
      support.collect(target, { logBytesPerProcess, operator: caller.operator?.name ?? null }),
    'support.preview': ({ previewId, redaction }) => support.preview(previewId, redaction),
    'support.save': ({ previewId, redaction, path }) => support.save(previewId, redaction, path),
    'support.analyze': ({ path }) => support.analyze(path),
  };
}
