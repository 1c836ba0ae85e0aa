import { bundleIncompatibleError } from './bundle-errors';
import type { BundleManifest } from './bundle-manifest';
import { parseRange, parseVersion, satisfies } from './version-range';

/**
 * The runtime versions whose API (sutazai.runtime.v1) this control center speaks. Widen it
 * when a new runtime keeps that API; a bundle whose runtime falls outside is refused.
 */
export const SUPPORTED_RUNTIME_RANGE = '>=0.1.0 <0.2.0';

/** Refuses a bundle that needs another control center or carries a runtime this one cannot manage. */
export function checkCompatibility(file: string, manifest: BundleManifest, controlCenterVersion: string): void {
  const ours = parseVersion(controlCenterVersion);
  const wanted = parseRange(manifest.compatibility.controlCenter);
  // The schema already checked the range; a control center always has a version.
  if (ours === null || wanted === null || !satisfies(ours, wanted)) {
    throw bundleIncompatibleError(
      file,
      `${manifest.name} ${manifest.version} needs a control center ${manifest.compatibility.controlCenter}, and this one is ${controlCenterVersion}`,
      `Install a control center in the range ${manifest.compatibility.controlCenter}, or use a bundle built for ${controlCenterVersion} (its builder sets the range).`,
    );
  }
  const runtime = parseVersion(manifest.compatibility.runtime);
  if (runtime === null || !satisfies(runtime, parseRange(SUPPORTED_RUNTIME_RANGE)!)) {
    throw bundleIncompatibleError(
      file,
      `it carries runtime ${manifest.compatibility.runtime}, and this control center manages runtimes ${SUPPORTED_RUNTIME_RANGE}`,
      `Use a bundle whose runtime is in ${SUPPORTED_RUNTIME_RANGE}, or upgrade the control center to one that manages runtime ${manifest.compatibility.runtime}.`,
    );
  }
}
