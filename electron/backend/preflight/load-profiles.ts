import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { ApiError } from '../../contract';
import { RequirementProfileSchema, type RequirementProfile } from './profile-schema';

/** config/ beside the source tree in development, beside the bundle when packaged. */
export function defaultConfigDir(): string {
  const candidates = [
    process.env.SUTAZAI_CONFIG_DIR,
    path.resolve(__dirname, '../../config'), // dist/backend -> repo root
    path.resolve(__dirname, '../../../config'), // electron/backend/preflight -> repo root
    (process as { resourcesPath?: string }).resourcesPath && path.join((process as { resourcesPath?: string }).resourcesPath!, 'config'),
  ];
  for (const candidate of candidates) if (candidate && existsSync(path.join(candidate, 'profiles'))) return candidate;
  throw new ApiError('NOT_FOUND', 'The requirement profiles (config/profiles) are missing from this installation.', 'Reinstall the app, or set SUTAZAI_CONFIG_DIR to a folder holding profiles/*.yaml.');
}

/**
 * Parses one profile; a schema error names the file, the line and column of the
 * offending value, and the field's path.
 */
export function parseProfile(text: string, file: string): RequirementProfile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const position = (offset: number | undefined) => (offset === undefined ? null : lineCounter.linePos(offset));
  if (doc.errors.length) {
    const error = doc.errors[0]!;
    const pos = error.linePos?.[0];
    throw new ApiError('IMPORT_INVALID', `${file}:${pos?.line ?? '?'}:${pos?.col ?? '?'}: ${error.message.split('\n')[0]}`, 'Fix the YAML syntax at that line and column.');
  }
  const parsed = RequirementProfileSchema.safeParse(doc.toJSON());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let node: unknown = doc.getIn(issue.path as Array<string | number>, true);
    // A missing key has no node of its own: point at the mapping that lacks it.
    for (let depth = issue.path.length - 1; !isNode(node) && depth >= 0; depth--) node = doc.getIn(issue.path.slice(0, depth) as Array<string | number>, true);
    const pos = position(isNode(node) ? node.range?.[0] : undefined) ?? { line: 1, col: 1 };
    const field = issue.path.map(String).join('.') || '(top level)';
    throw new ApiError('IMPORT_INVALID', `${file}:${pos.line}:${pos.col}: ${field}: ${issue.message}.`, 'Correct that field of the profile; see config/profiles/core.yaml for an example.');
  }
  return parsed.data;
}

export function loadProfiles(configDir: string): Map<string, RequirementProfile> {
  const dir = path.join(configDir, 'profiles');
  const profiles = new Map<string, RequirementProfile>();
  for (const name of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const file = path.join(dir, name);
    const profile = parseProfile(readFileSync(file, 'utf8'), file);
    profiles.set(profile.name, profile);
  }
  return profiles;
}
