import { stringify } from 'yaml';
import { z } from 'zod';
import { ENVIRONMENTS } from '../../config/install-config-schema';
import type { YamlSource } from '../../config/load-install-config';
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
      }),
    )
    .min(1),
});
export type RecordedDefinition = z.infer<typeof RecordedDefinitionSchema>;

export function recordDefinition(file: InstallFile): string {
  const record: RecordedDefinition = {
    format: 1,
    ...(file.environment !== undefined ? { environment: file.environment } : {}),
    layers: file.layers.map(copySource),
    hosts: file.hosts.map((host) => ({
      name: host.name,
      role: host.role,
      ...(host.gpu !== undefined ? { gpu: host.gpu } : {}),
      ...(host.config !== undefined ? { config: copySource(host.config) } : {}),
    })),
  };
  return JSON.stringify(record);
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
