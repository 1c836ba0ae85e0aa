import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { RuntimeError } from '../runtime-error';
import { expandReplicas, startOrder } from './dependency-order';
import { manifestSchema, toProcessSpec, type Manifest } from './manifest-schema';

const REMEDY = 'fix the field named in the message (see agents-runtime/manifests/example.yaml for every field), then reload the manifest';

type PathSegment = string | number;

/**
 * Reads a manifest. Anything wrong is refused with RuntimeError('MANIFEST_INVALID'),
 * whose message names file, line, column and the path of the bad field:
 * `runtime.yaml:14:20: processes.2.health.interval_ms: Too small: expected number to be >0`.
 * A dependency cycle is refused with MANIFEST_CYCLE and the path that forms it.
 */
export function parseManifest(text: string, file: string): Manifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const where = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };

  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const firstLine = yamlError.message.split('\n')[0] ?? yamlError.code;
    throw new RuntimeError('MANIFEST_INVALID', `${where(yamlError.pos[0])}: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`, REMEDY);
  }

  const parsed = manifestSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const path = [...(issue.path as PathSegment[])];
    let offset = offsetOf(doc, path);
    if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
      offset = keyOffset(doc, path, issue.keys[0]) ?? offset;
      path.push(issue.keys[0]);
    }
    const why = issue.code === 'invalid_type' && / received undefined$/.test(issue.message)
      ? `is required (expected ${issue.expected})`
      : issue.message;
    const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more)` : '';
    throw new RuntimeError('MANIFEST_INVALID', `${where(offset)}: ${describePath(path)}: ${why}${more}`, REMEDY);
  }

  const processes = parsed.data.processes.map(toProcessSpec);
  const invalid = (path: PathSegment[], why: string): RuntimeError =>
    new RuntimeError('MANIFEST_INVALID', `${where(offsetOf(doc, path))}: ${describePath(path)}: ${why}`, REMEDY);

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

function describePath(path: readonly PathSegment[]): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

/** Start offset of the deepest node that exists along `path` (a missing field points at its parent). */
function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyOffset(doc: Document, path: readonly PathSegment[], key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

function isNode(value: unknown): value is YamlNode {
  return isScalar(value) || isMap(value) || isSeq(value);
}
