import { stringify } from 'yaml';
import { z } from 'zod';
import { ENVIRONMENTS } from '../../config/install-config-schema';
import type { YamlSource } from '../../config/load-install-config';
import type { InstallsRepo } from '../../store/installs-repo';
import { INSTALL_ROLES, type InstallFile } from './install-file';

/**
 * What an install was last applied with, minus the bundle: its hosts with their roles and
 * the configuration layers (texts as they were, files by their path, read again when
 * used, as the CLI would). Kept on the install's row so the app can upgrade, roll back or
 * uninstall an install by its name alone.
 */
const SourceSchema = z.union([z.strictObject({ file: z.string().min(1) }), z.strictObject({ name: z.string().min(1), text: z.string() })]);

const RecordedDefinitionSchema = z.strictObject({
  format: z.literal(1),
  environment: z.enum(ENVIRONMENTS).optional(),
  layers: z.array(SourceSchema),
  hosts: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        role: z.enum(INSTALL_ROLES),
        gpu: z.boolean().optional(),
        config: SourceSchema.optional(),
        /** Replicas set by scaling a process through its runtime (fleet.scale), by process name; they win over the configuration. */
        replicas: z.record(z.string(), z.number().int().nonnegative()).optional(),
      }),
    )
    .min(1),
});
export type RecordedDefinition = z.infer<typeof RecordedDefinitionSchema>;

/** `previous`: the definition recorded before, whose scaled replicas stay with the hosts still in the install. */
export function recordDefinition(file: InstallFile, previous: RecordedDefinition | null = null): string {
  const scaled = new Map(previous?.hosts.filter((h) => h.replicas !== undefined).map((h) => [h.name, h.replicas!]) ?? []);
  const record: RecordedDefinition = {
    format: 1,
    ...(file.environment !== undefined ? { environment: file.environment } : {}),
    layers: file.layers.map(copySource),
    hosts: file.hosts.map((host) => ({
      name: host.name,
      role: host.role,
      ...(host.gpu !== undefined ? { gpu: host.gpu } : {}),
      ...(host.config !== undefined ? { config: copySource(host.config) } : {}),
      ...(scaled.has(host.name) ? { replicas: { ...scaled.get(host.name)! } } : {}),
    })),
  };
  return JSON.stringify(record);
}

/** The replicas scaled on a host of the recorded definition, by process name (empty when none). */
export function scaledReplicasOf(json: string | null, hostName: string): Record<string, number> {
  return readRecordedDefinition(json)?.hosts.find((h) => h.name === hostName)?.replicas ?? {};
}

/**
 * Records a scale done through the runtime in the install's definition, so that applying
 * the install again (by name, or from its file) renders the manifest with it. An install
 * applied before definitions were kept has none to record it in: the scale then lasts
 * until the next apply, as before.
 */
export function recordScale(
  installs: Pick<InstallsRepo, 'findByName' | 'setDefinition'>,
  installName: string,
  hostName: string,
  process: string,
  replicas: number,
): boolean {
  const install = installs.findByName(installName);
  const definition = readRecordedDefinition(install?.definition ?? null);
  if (!install || !definition) return false;
  const host = definition.hosts.find((h) => h.name === hostName);
  if (!host) return false;
  host.replicas = { ...host.replicas, [process]: replicas };
  installs.setDefinition(install.id, JSON.stringify(definition));
  return true;
}

/** The recorded definition, or null when there is none (an install applied before it was kept) or it cannot be read. */
export function readRecordedDefinition(json: string | null): RecordedDefinition | null {
  if (json === null) return null;
  try {
    const parsed = RecordedDefinitionSchema.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The engine's install file for the install named `name`, with the recorded hosts and layers and the bundle given. */
export function installFileOfRecord(name: string, record: RecordedDefinition, bundle: { name: string; version: string }): InstallFile {
  return {
    // Named in the engine's messages, as the wizard's installs are.
    file: `install ${name}`,
    text: stringify({ name, bundle: `${bundle.name}@${bundle.version}`, ...record }, { lineWidth: 0 }),
    name,
    bundle,
    environment: record.environment,
    layers: record.layers.map(copySource),
    hosts: record.hosts.map((host) => ({
      name: host.name,
      role: host.role,
      gpu: host.gpu,
      config: host.config ? copySource(host.config) : undefined,
    })),
  };
}

function copySource(source: YamlSource): YamlSource {
  return 'file' in source ? { file: source.file } : { name: source.name, text: source.text };
}
