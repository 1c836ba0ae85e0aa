/**
 * The one way YAML from outside (a manifest, a config layer, an install file, a host list,
 * a profile) becomes a document: bounded in size, nesting, node count and alias expansion
 * before the yaml library composes it, with duplicate keys found in linear time (the
 * library's own `uniqueKeys` check compares every key with every other) and only the YAML
 * 1.2 core tags accepted. Every refusal names the offset it is about, so each caller can
 * report `file:line:column` under its own error code.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, Parser, type Document, type Node as YamlNode } from 'yaml';

export interface YamlLimits {
  /** UTF-8 bytes of the text. */
  maxBytes: number;
  /** Keys and list items, counted after aliases are expanded. */
  maxNodes: number;
  /** Nesting of maps and lists, after aliases are expanded. */
  maxDepth: number;
}

/** Files an operator writes by hand: a config layer, an install file, a manifest, a profile. */
export const YAML_FILE_LIMITS: YamlLimits = { maxBytes: 1024 * 1024, maxNodes: 10_000, maxDepth: 32 };

export interface YamlProblem {
  /** Offset into the text the problem is about. */
  offset: number;
  /** What is wrong, without the position (callers prefix `file:line:col`). */
  message: string;
  /** True when a limit refused the text (as opposed to a syntax error). */
  limit: boolean;
  /** The yaml library's code for a syntax error (BLOCK_AS_IMPLICIT_KEY, ...). */
  code?: string;
}

export interface ReadYaml {
  lineCounter: LineCounter;
  /** The document; absent when a limit refused the text before it was composed. */
  doc: Document.Parsed | undefined;
  /** The first problem: a limit, a syntax error, a duplicate key or a tag outside the core schema. */
  problem: YamlProblem | undefined;
}

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`));

/** Parses `text` within `limits`; see the module comment. */
export function readYaml(text: string, limits: YamlLimits): ReadYaml {
  const lineCounter = new LineCounter();
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxBytes) {
    lineCounter.addNewLine(0);
    return {
      lineCounter,
      doc: undefined,
      problem: { offset: 0, limit: true, message: `the text is ${bytes} bytes, over the limit of ${limits.maxBytes} bytes` },
    };
  }
  // The concrete syntax tree is built without recursion; composing it is recursive, so
  // depth and size are judged here first (10,000 nested "[" would exhaust the stack).
  const shape = measureSyntaxTree(text, limits);
  if (shape !== undefined) {
    for (const offset of lineStarts(text)) lineCounter.addNewLine(offset);
    return { lineCounter, doc: undefined, problem: shape };
  }
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    // The library repeats the position in its message; callers name it themselves.
    const message = (syntax.message.split('\n')[0] ?? syntax.code).replace(/ at line \d+, column \d+:?$/, '');
    return { lineCounter, doc, problem: { offset: syntax.pos[0], limit: false, message, code: syntax.code } };
  }
  return { lineCounter, doc, problem: checkDocument(doc, limits) };
}

/** The document's value with aliases expanded (readYaml has already bounded the expansion). */
export function toValue(doc: Document.Parsed): unknown {
  return doc.toJS({ maxAliasCount: -1 });
}

interface CstToken {
  type: string;
  offset: number;
  value?: CstToken;
  key?: CstToken | null;
  items?: Array<{ key?: CstToken | null; value?: CstToken | null }>;
}

/** Depth and item count of the concrete syntax tree, walked with an explicit stack. */
function measureSyntaxTree(text: string, limits: YamlLimits): YamlProblem | undefined {
  let items = 0;
  const stack: Array<{ token: CstToken; depth: number }> = [];
  for (const token of new Parser().parse(text) as Iterable<CstToken>) {
    if (token.type === 'document' && token.value) stack.push({ token: token.value, depth: 0 });
    while (stack.length > 0) {
      const { token: node, depth } = stack.pop()!;
      if (node.items === undefined) continue;
      if (depth + 1 > limits.maxDepth)
        return { offset: node.offset, limit: true, message: `maps and lists are nested more than ${limits.maxDepth} deep` };
      for (const item of node.items) {
        items += 1;
        if (items > limits.maxNodes)
          return {
            offset: item.value?.offset ?? item.key?.offset ?? node.offset,
            limit: true,
            message: `the text holds more than ${limits.maxNodes} keys and list items`,
          };
        if (item.key) stack.push({ token: item.key, depth: depth + 1 });
        if (item.value) stack.push({ token: item.value, depth: depth + 1 });
      }
    }
  }
  return undefined;
}

interface Size {
  nodes: number;
  depth: number;
}

/**
 * Duplicate keys, keys that are not plain values, tags outside the core schema, and the
 * size once aliases are expanded (an "alias bomb" is a few lines that expand to billions).
 */
function checkDocument(doc: Document.Parsed, limits: YamlLimits): YamlProblem | undefined {
  const sizes = new Map<YamlNode, Size>();
  let problem: YamlProblem | undefined;
  const fail = (node: YamlNode | null | undefined, message: string, limit = false): Size => {
    problem ??= { offset: node?.range?.[0] ?? 0, limit, message };
    return { nodes: 0, depth: 0 };
  };

  const open = new Set<YamlNode>();
  const measure = (node: YamlNode | null | undefined): Size => {
    if (node === null || node === undefined || problem !== undefined) return { nodes: 0, depth: 0 };
    if (isAlias(node)) {
      const target = node.resolve(doc) as YamlNode | undefined;
      if (target === undefined) return fail(node, `the alias *${node.source} names no anchor before it`);
      if (open.has(target)) return fail(node, `the alias *${node.source} refers to a node that contains it`);
      return measure(target);
    }
    const known = sizes.get(node);
    if (known !== undefined) return known;
    if (node.tag !== undefined && !CORE_TAGS.has(node.tag))
      return fail(
        node,
        `the tag ${node.tag.replace(/^tag:yaml\.org,2002:/, '!!')} is not allowed here (only plain YAML values, maps and lists)`,
      );
    if (!isMap(node) && !isSeq(node)) return { nodes: 0, depth: 0 };
    open.add(node);
    const size: Size = { nodes: node.items.length, depth: 0 };
    if (isMap(node)) {
      const keys = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as YamlNode | null;
        if (!isScalar(key)) return fail(key ?? node, 'a key must be a plain value, not a map, a list or an alias');
        const name = String(key.value);
        if (keys.has(name)) return fail(key, `Map keys must be unique: "${name}" appears twice in the same map`);
        keys.add(name);
        add(size, measure(key));
        add(size, measure(pair.value as YamlNode | null));
      }
    } else {
      for (const item of node.items) add(size, measure(item as YamlNode | null));
    }
    open.delete(node);
    size.depth += 1;
    if (size.nodes > limits.maxNodes)
      return fail(node, `aliases expand the text to more than ${limits.maxNodes} keys and list items`, true);
    if (size.depth > limits.maxDepth) return fail(node, `aliases nest maps and lists more than ${limits.maxDepth} deep`, true);
    sizes.set(node, size);
    return size;
  };

  measure(doc.contents as YamlNode | null);
  return problem;
}

function add(into: Size, part: Size): void {
  into.nodes += part.nodes;
  into.depth = Math.max(into.depth, part.depth);
}

function lineStarts(text: string): number[] {
  const starts: number[] = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
