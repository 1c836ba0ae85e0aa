import { RuntimeError } from '../runtime-error';
import { describeIssue, describePath, offsetOf, parseLocatedYaml, type PathSegment } from '../yaml/locate-issue';
import { toValue, YAML_FILE_LIMITS, type YamlLimits } from '../yaml/read-yaml';
import { expandReplicas, startOrder } from './dependency-order';
import { DEFAULT_MANIFEST_LIMITS, manifestSchema, toProcessSpec, type Manifest, type ManifestLimits } from './manifest-schema';

const REMEDY = 'fix the field named in the message (see agents-runtime/manifests/example.yaml for every field), then reload the manifest';

/**
 * Reads a manifest. Anything wrong is refused with RuntimeError('MANIFEST_INVALID'),
 * whose message names file, line, column and the path of the bad field:
 * `runtime.yaml:14:20: processes.2.health.interval_ms: Too small: expected number to be >0`.
 * A dependency cycle is refused with MANIFEST_CYCLE and the path that forms it. A manifest
 * over `limits` (or YAML over its size, nesting or alias limits) is MANIFEST_INVALID too.
 */
export function parseManifest(text: string, file: string, limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS): Manifest {
  const yaml = parseLocatedYaml(text, file, manifestYamlLimits(limits));
  if (yaml.syntaxError !== undefined) throw new RuntimeError('MANIFEST_INVALID', yaml.syntaxError, REMEDY);
  const { doc, where } = yaml;

  const invalid = (path: PathSegment[], why: string, remedy = REMEDY): RuntimeError =>
    new RuntimeError('MANIFEST_INVALID', `${where(offsetOf(doc, path))}: ${describePath(path)}: ${why}`, remedy);

  const value = toValue(doc);
  // Counted before the schema builds anything from thousands of entries.
  const listed = (value as { processes?: unknown } | null)?.processes;
  if (Array.isArray(listed) && listed.length > limits.maxProcesses) {
    throw invalid(
      ['processes'],
      `lists ${listed.length} processes, more than the limit of ${limits.maxProcesses}`,
      limitRemedy('max_processes'),
    );
  }
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new RuntimeError('MANIFEST_INVALID', `${describeIssue(yaml, parsed.error.issues[0]!)}${more}`, REMEDY);
  }

  const processes = parsed.data.processes.map(toProcessSpec);
  let instanceCount = 0;
  processes.forEach((p, i) => {
    instanceCount += p.replicas;
    if (instanceCount > limits.maxInstances) {
      throw invalid(
        ['processes', i, 'replicas'],
        `brings the manifest to ${instanceCount} instances, more than the limit of ${limits.maxInstances}`,
        limitRemedy('max_instances'),
      );
    }
  });

  const names = new Map<string, number>();
  processes.forEach((p, i) => {
    const first = names.get(p.name);
    if (first !== undefined) throw invalid(['processes', i, 'name'], `duplicate name "${p.name}" (also processes.${first}.name)`);
    names.set(p.name, i);
  });
  const instances = new Map<string, string>();
  processes.forEach((p, i) => {
    for (const instance of expandReplicas(p)) {
      const owner = instances.get(instance);
      if (owner !== undefined) {
        throw invalid(['processes', i, 'name'], `instance name "${instance}" is also an instance of "${owner}"; rename one of them`);
      }
      instances.set(instance, p.name);
    }
  });
  processes.forEach((p, i) => {
    p.dependsOn.forEach((dep, j) => {
      if (!names.has(dep)) throw invalid(['processes', i, 'depends_on', j], `no process named "${dep}"`);
    });
  });

  try {
    startOrder({ processes });
  } catch (error) {
    if (!(error instanceof RuntimeError)) throw error;
    const first = /^cycle: ([^ ]+)/.exec(error.message)?.[1];
    const index = first === undefined ? 0 : (names.get(first) ?? 0);
    throw new RuntimeError(error.code, `${where(offsetOf(doc, ['processes', index, 'depends_on']))}: ${error.message}`, error.remedy);
  }

  return { version: 1, processes };
}

function limitRemedy(key: string): string {
  return `run fewer processes or replicas per machine, or raise manifest_limits.${key} in the runtime config (see agents-runtime/config/example-runtime.yaml) and restart sutazai-runtime`;
}

/** Enough YAML for `maxProcesses` fully written out processes, and no more. */
export function manifestYamlLimits(limits: ManifestLimits): YamlLimits {
  return { ...YAML_FILE_LIMITS, maxNodes: Math.max(YAML_FILE_LIMITS.maxNodes, limits.maxProcesses * 64) };
}
