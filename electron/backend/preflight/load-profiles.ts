import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  describePath,
  offsetOf,
  parseLocatedYaml,
  readCappedText,
  TextTooLargeError,
  toValue,
  YAML_FILE_LIMITS,
  type PathSegment,
} from '../../../agents-runtime/src/wire';
import { ApiError } from '../../contract';
import { packagedPath } from '../app/packaged-resources';
import { YAML_LIMITS_REMEDY } from '../config/yaml-layer';
import { RequirementProfileSchema, type RequirementProfile } from './profile-schema';

/**
 * config/: SUTAZAI_CONFIG_DIR when set; then, in the packaged app, only where the package
 * puts it (app/packaged-resources.ts); from a checkout, beside the build or the source tree.
 */
export function defaultConfigDir(): string {
  const packaged = packagedPath('configDir');
  const candidates = [
    process.env.SUTAZAI_CONFIG_DIR,
    ...(packaged !== undefined
      ? [packaged]
      : [
          path.resolve(__dirname, '../../config'), // dist/backend -> repo root
          path.resolve(__dirname, '../../../config'), // electron/backend/preflight -> repo root
        ]),
  ];
  for (const candidate of candidates) if (candidate && existsSync(path.join(candidate, 'profiles'))) return candidate;
  throw new ApiError(
    'NOT_FOUND',
    'The requirement profiles (config/profiles) are missing from this installation.',
    'Reinstall the app, or set SUTAZAI_CONFIG_DIR to a folder holding profiles/*.yaml.',
  );
}

/**
 * Parses one profile; a schema error names the file, the line and column of the
 * offending value, and the field's path.
 */
export function parseProfile(text: string, file: string): RequirementProfile {
  const yaml = parseLocatedYaml(text, file, YAML_FILE_LIMITS);
  if (yaml.doc === undefined) {
    if (yaml.problem?.limit !== false) throw new ApiError('CONFIG_YAML_INVALID', `${yaml.syntaxError}.`, YAML_LIMITS_REMEDY);
    throw new ApiError('IMPORT_INVALID', yaml.syntaxError, 'Fix the YAML syntax at that line and column.');
  }
  const parsed = RequirementProfileSchema.safeParse(toValue(yaml.doc));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path as PathSegment[];
    // A missing key has no node of its own: offsetOf points at the mapping that lacks it.
    throw new ApiError(
      'IMPORT_INVALID',
      `${yaml.where(offsetOf(yaml.doc, at))}: ${describePath(at)}: ${issue.message}.`,
      'Correct that field of the profile; see config/profiles/core.yaml for an example.',
    );
  }
  return parsed.data;
}

export function loadProfiles(configDir: string): Map<string, RequirementProfile> {
  const dir = path.join(configDir, 'profiles');
  const profiles = new Map<string, RequirementProfile>();
  for (const name of readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()) {
    const file = path.join(dir, name);
    let text: string;
    try {
      text = readCappedText(file, YAML_FILE_LIMITS.maxBytes);
    } catch (error) {
      if (error instanceof TextTooLargeError)
        throw new ApiError('CONFIG_YAML_INVALID', `The requirement profile ${file} ${error.message}.`, YAML_LIMITS_REMEDY);
      throw error;
    }
    const profile = parseProfile(text, file);
    profiles.set(profile.name, profile);
  }
  return profiles;
}
