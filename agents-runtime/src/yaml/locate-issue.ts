/**
 * Points a reader of a YAML file at the node that is wrong: `file:line:col: path: why`, for
 * a syntax error or for a schema issue (schema/schema.ts) found in the parsed document. A field that is missing
 * points at its parent; an unknown key points at the key itself. The one place an offset
 * into YAML text becomes a line and column, for the runtime and (through the wire module)
 * the control center alike.
 */
import { isMap, isScalar, isSeq, type Document, type Node as YamlNode } from 'yaml';
import type { Issue } from '../schema/schema';
import { readYaml, YAML_FILE_LIMITS, type YamlLimits, type YamlProblem } from './read-yaml';

export type PathSegment = string | number;

/** 1-based, as editors count. */
export interface YamlPosition {
  line: number;
  column: number;
}

interface Where {
  /** `file:line:col` of an offset into the text. */
  where(offset: number): string;
  /** Line and column of an offset into the text. */
  position(offset: number): YamlPosition;
  /** Where each line starts: plain data that names positions on another thread too (positionsFrom). */
  lineStarts: readonly number[];
}

/**
 * A document that parsed within its limits, or the first problem (a limit, a syntax error)
 * both as data and as `file:line:col: message`.
 */
export type LocatedYaml = Where &
  (
    | { doc: Document.Parsed; problem: undefined; syntaxError: undefined }
    | { doc: undefined; problem: YamlProblem | undefined; syntaxError: string }
  );

/** A parsed document and how to name its positions. */
export type LocatedDocument = Pick<Where, 'where'> & { doc: Document };

/**
 * Line and column of offsets into a text whose lines start at `lineStarts` (ascending), counted
 * as the yaml library's LineCounter counts them. Plain arithmetic rather than a LineCounter: what
 * names positions may be kept after the read, and in the runtime a kept object of the library
 * would keep the whole library loaded (yaml-on-demand.ts).
 */
export function positionsFrom(lineStarts: readonly number[]): (offset: number) => YamlPosition {
  const starts = [...lineStarts];
  return (offset) => {
    // The number of lines that start at or before `offset`: that line, 1-based.
    let low = 0;
    let high = starts.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (starts[mid]! <= offset) low = mid + 1;
      else high = mid;
    }
    if (low === 0) return { line: 0, column: offset };
    return { line: low, column: offset - starts[low - 1]! + 1 };
  };
}

/** Parses YAML text within `limits` (read-yaml.ts), keeping what is needed to name positions in `file`. */
export function parseLocatedYaml(text: string, file: string, limits: YamlLimits = YAML_FILE_LIMITS): LocatedYaml {
  const { doc, lineCounter, problem } = readYaml(text, limits);
  const lineStarts = [...lineCounter.lineStarts];
  const position = positionsFrom(lineStarts);
  const where = (offset: number): string => {
    const { line, column } = position(offset);
    return `${file}:${line}:${column}`;
  };
  if (problem !== undefined || doc === undefined)
    return {
      doc: undefined,
      problem,
      where,
      position,
      lineStarts,
      syntaxError: `${where(problem?.offset ?? 0)}: ${problem?.message ?? 'unreadable YAML'}`,
    };
  return { doc, problem: undefined, where, position, lineStarts, syntaxError: undefined };
}

/** `file:line:col: path: why` for one schema issue raised by the document's contents. */
export function describeIssue(yaml: LocatedDocument, issue: Issue): string {
  const { offset, path, why } = locateIssue(yaml.doc, issue);
  return `${yaml.where(offset)}: ${describePath(path)}: ${why}`;
}

/**
 * Where one schema issue points in the document and why, as parts: an unknown key points at the
 * key itself (and its path ends with it), a missing field at its parent.
 */
export function locateIssue(doc: Document, issue: Issue): { offset: number; path: PathSegment[]; why: string } {
  const path = [...issue.path];
  let offset = offsetOf(doc, path);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    offset = keyOffset(doc, path, issue.keys[0]) ?? offset;
    path.push(issue.keys[0]);
  }
  const why =
    issue.code === 'invalid_type' && / received undefined$/.test(issue.message)
      ? `is required (expected ${issue.expected})`
      : issue.message;
  return { offset, path, why };
}

export function describePath(path: readonly PathSegment[]): string {
  return path.length === 0 ? '(top level)' : path.join('.');
}

/** Start offset of the deepest node that exists along `path` (a missing field points at its parent). */
export function offsetOf(doc: Document, path: readonly PathSegment[]): number {
  for (let depth = path.length; depth >= 0; depth -= 1) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

/** Start offset of `key` itself in the map at `path`, or undefined. */
export function keyOffset(doc: Document, path: readonly PathSegment[], key: string): number | undefined {
  const map = path.length === 0 ? doc.contents : doc.getIn(path, true);
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
}

function isNode(value: unknown): value is YamlNode {
  return isScalar(value) || isMap(value) || isSeq(value);
}
