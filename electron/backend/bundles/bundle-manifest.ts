import { z } from 'zod';
import { MAX_ENTRY_SIZE } from './tar-header';
import { isRange, isVersion } from './version-range';

/**
 * bundle.json: what a release bundle holds and what it works with. Every path it names is
 * a file of the bundle, listed in checksums.sha256 and so covered by the signature.
 */

/**
 * Written by this builder; a bundle with a higher number comes from a newer builder. Format 2
 * added `sizes`, so a reader refuses an entry larger than listed at its header; format 1
 * bundles are still readable from the store (their rows), but no longer imported.
 */
export const BUNDLE_FORMAT = 2;
/** The format before `sizes`: only a stored row may be in it. */
export const BUNDLE_FORMAT_WITHOUT_SIZES = 1;

/** The three files that describe a bundle; the writer puts them first, in this order. */
export const MANIFEST_FILE = 'bundle.json';
export const CHECKSUMS_FILE = 'checksums.sha256';
export const SIGNATURE_FILE = 'signature.ed25519';

export const BUNDLE_EXTENSION = '.sutazai-bundle';

export const ARCHITECTURES = ['linux-x64', 'linux-arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

export const COMPONENT_NAMES = ['runtime', 'core', 'agent'] as const;

/**
 * Paths inside a bundle: relative, segments of letters, digits and `. _ + @ -` not starting
 * with a dot, so no `..`, no hidden files, nothing `sha256sum -c` or a shell would trip on.
 */
export const BUNDLE_PATH_PATTERN = /^[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*(?:\/[A-Za-z0-9_+@-][A-Za-z0-9._+@-]*)*$/;

const BundlePath = z.string().max(255).regex(BUNDLE_PATH_PATTERN, 'a relative path of letters, digits and . _ + @ -');
const VersionText = z.string().max(64).refine(isVersion, 'a semantic version such as 1.2.3');

const ComponentSchema = z
  .object({
    version: VersionText,
    dependsOn: z.array(z.enum(COMPONENT_NAMES)),
    files: z.array(BundlePath).min(1),
  })
  .strict();

const ArtifactSchema = z
  .object({
    /** The Node binary that runs the runtime and the programs on this architecture. */
    node: BundlePath,
  })
  .strict();

export const BundleManifestSchema = z
  .object({
    format: z.union([z.literal(BUNDLE_FORMAT), z.literal(BUNDLE_FORMAT_WITHOUT_SIZES)]),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "_" or "-"'),
    version: VersionText,
    createdAt: z.iso.datetime(),
    components: z.object({ runtime: ComponentSchema, core: ComponentSchema, agent: ComponentSchema }).strict(),
    artifacts: z
      .object({ 'linux-x64': ArtifactSchema.optional(), 'linux-arm64': ArtifactSchema.optional() })
      .strict()
      .refine((artifacts) => Object.values(artifacts).some(Boolean), 'at least one architecture'),
    /** Requirement profiles by name (core, agent, agent-gpu), as preflight reads them. */
    profiles: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/), BundlePath),
    /** The default configuration folder (profiles and defaults). */
    config: BundlePath,
    /** The runtime's default process manifest (core and agents). */
    processManifest: BundlePath,
    /** The systemd unit that runs the runtime. */
    systemdUnit: BundlePath.optional(),
    /**
     * The size in bytes of every file checksums.sha256 lists but bundle.json itself: signed
     * with it, so an entry whose header claims more is refused before its data is read.
     */
    sizes: z.record(BundlePath, z.number().int().min(0).max(MAX_ENTRY_SIZE)).optional(),
    compatibility: z
      .object({
        /** The control center versions that may install this bundle, as a range. */
        controlCenter: z.string().max(200).refine(isRange, 'a version range such as ">=0.1.0 <0.2.0"'),
        /** The runtime version this bundle carries. */
        runtime: VersionText,
      })
      .strict(),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    if ((manifest.format === BUNDLE_FORMAT) !== (manifest.sizes !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sizes'],
        message:
          manifest.format === BUNDLE_FORMAT
            ? `format ${BUNDLE_FORMAT} lists the size of every file`
            : `format ${manifest.format} has no sizes`,
      });
    }
    for (const name of COMPONENT_NAMES) {
      if (manifest.components[name].dependsOn.includes(name)) {
        ctx.addIssue({ code: 'custom', path: ['components', name, 'dependsOn'], message: `${name} cannot depend on itself` });
      }
    }
    const cycle = findCycle(manifest.components);
    if (cycle)
      ctx.addIssue({
        code: 'custom',
        path: ['components'],
        message: `the components depend on each other in a circle (${cycle.join(' -> ')})`,
      });
  });

export type BundleManifest = z.infer<typeof BundleManifestSchema>;

/** Every file bundle.json names, with the field that names it. */
export function pathsNamedBy(manifest: BundleManifest): Array<{ field: string; path: string }> {
  const named: Array<{ field: string; path: string }> = [];
  for (const name of COMPONENT_NAMES)
    for (const file of manifest.components[name].files) named.push({ field: `components.${name}.files`, path: file });
  for (const arch of ARCHITECTURES) {
    const artifact = manifest.artifacts[arch];
    if (artifact) named.push({ field: `artifacts.${arch}.node`, path: artifact.node });
  }
  for (const [profile, file] of Object.entries(manifest.profiles)) named.push({ field: `profiles.${profile}`, path: file });
  named.push({ field: 'processManifest', path: manifest.processManifest });
  if (manifest.systemdUnit) named.push({ field: 'systemdUnit', path: manifest.systemdUnit });
  return named;
}

export function architecturesOf(manifest: BundleManifest): Architecture[] {
  return ARCHITECTURES.filter((arch) => manifest.artifacts[arch] !== undefined);
}

function findCycle(components: Record<string, { dependsOn: readonly string[] }>): string[] | null {
  const visiting: string[] = [];
  const done = new Set<string>();
  const visit = (name: string): string[] | null => {
    if (done.has(name)) return null;
    const at = visiting.indexOf(name);
    if (at !== -1) return [...visiting.slice(at), name];
    visiting.push(name);
    for (const dependency of components[name]?.dependsOn ?? []) {
      const cycle = visit(dependency);
      if (cycle) return cycle;
    }
    visiting.pop();
    done.add(name);
    return null;
  };
  for (const name of Object.keys(components)) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}
