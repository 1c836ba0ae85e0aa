import { isAlias, isMap, isSeq, type Node } from 'yaml';
import { z } from 'zod';
import { parseLocatedYaml, toValue, type YamlLimits } from '../../../agents-runtime/src/wire';
import { HostInputSchema, type ImportError, type ParsedHostInput } from '../../contract';

/**
 * One host of a bulk import. In the spirit of k0sctl's `spec.hosts`, both a flat list
 * (`hosts: [{address, user, ...}]`) and k0sctl's nesting (`spec: {hosts: [{role,
 * ssh: {address, user, port, keyPath, bastion}}]}`) are read. A jump host is named by
 * `jumpHost:` (a host in the inventory or earlier in the file).
 */
export interface ImportRow {
  row: number;
  line: number | null;
  column: number | null;
  /** Parsed as hosts.add parses it; the inventory takes it as it is. */
  input: ParsedHostInput;
  jumpHostName: string | null;
  /** The row named its login (auth: or keyPath:); without, its input says the SSH agent, the default. */
  loginNamed: boolean;
}

export interface ParsedImport {
  rows: ImportRow[];
  errors: ImportError[];
  /** Set when the whole file is refused (over a limit): nothing may be imported from it. */
  refused?: { message: string; remedy: string };
}

/** A host list is bigger than a config file, but still a file a person manages. */
export const HOST_LIST_LIMITS: YamlLimits = { maxBytes: 4 * 1024 * 1024, maxNodes: 100_000, maxDepth: 16 };
export const MAX_IMPORT_HOSTS = 10_000;
const LIMITS_REMEDY = `Split the list into files of at most ${MAX_IMPORT_HOSTS} hosts and ${HOST_LIST_LIMITS.maxBytes / 1024 / 1024} MiB, without aliases that repeat large parts, and import them one by one.`;

const RowSchema = z
  .object({
    name: z.string().optional(),
    address: z.string(),
    port: z.number().optional(),
    user: z.string().default('root'),
    role: z.enum(['core', 'agent', 'both', 'controller', 'worker', 'controller+worker']).optional(),
    labels: z.union([z.array(z.string()), z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))]).optional(),
    keyPath: z.string().optional(),
    auth: z.enum(['key', 'agent', 'password']).optional(),
    jumpHost: z.string().optional(),
  })
  .strict();

/** k0sctl roles map onto ours: a controller runs the core, a worker an agent. */
const ROLE_MAP = { core: 'core', agent: 'agent', both: 'both', controller: 'core', worker: 'agent', 'controller+worker': 'both' } as const;

/**
 * Reads a host list within HOST_LIST_LIMITS. Aliases work as YAML says (a row's values are
 * the expanded document's); a file over a limit is refused whole.
 */
export function parseHostList(text: string, fileName: string): ParsedImport {
  const yaml = parseLocatedYaml(text, fileName, HOST_LIST_LIMITS);
  const at = (node: Node | null | undefined) => {
    const offset = node?.range?.[0];
    return offset === undefined ? { line: null, column: null } : yaml.position(offset);
  };
  if (yaml.doc === undefined) {
    const message = yaml.syntaxError;
    if (yaml.problem?.limit !== false)
      return { rows: [], errors: [], refused: { message: `${message}; nothing was imported.`, remedy: LIMITS_REMEDY } };
    // A file that is not even valid YAML adds nothing: every row is suspect.
    return {
      rows: [],
      errors: [
        {
          row: null,
          ...yaml.position(yaml.problem.offset),
          field: null,
          message,
          remedy: 'Fix the YAML syntax at that line and column; nothing was imported.',
        },
      ],
    };
  }
  const { doc } = yaml;
  const resolved = (node: unknown): unknown => (isAlias(node) ? node.resolve(doc) : node);
  const root = doc.contents;
  const value = toValue(doc) as Record<string, unknown> | unknown[] | null;
  let list: unknown = null;
  let values: unknown = null;
  if (isMap(root)) {
    const record = value as Record<string, unknown>;
    list = resolved(root.get('hosts', true));
    values = record.hosts;
    const spec = resolved(root.get('spec', true));
    if (!list && isMap(spec)) {
      list = resolved(spec.get('hosts', true));
      values = (record.spec as Record<string, unknown> | undefined)?.hosts;
    }
  } else if (isSeq(root)) {
    list = root;
    values = value;
  }
  if (!isSeq(list) || !Array.isArray(values)) {
    return {
      rows: [],
      errors: [
        {
          row: null,
          ...at(root as Node),
          field: 'hosts',
          message: `${fileName}: no host list found.`,
          remedy: "Put the hosts under a top-level `hosts:` list (or k0sctl's `spec.hosts`).",
        },
      ],
    };
  }
  if (values.length > MAX_IMPORT_HOSTS) {
    return {
      rows: [],
      errors: [],
      refused: {
        message: `${fileName}: the list holds ${values.length} hosts, more than the ${MAX_IMPORT_HOSTS} one import takes; nothing was imported.`,
        remedy: LIMITS_REMEDY,
      },
    };
  }
  const hostValues = values;

  const rows: ImportRow[] = [];
  const errors: ImportError[] = [];
  list.items.forEach((item, index) => {
    const row = index + 1;
    const where = at(item as Node);
    const locate = (pathParts: PropertyKey[]) => {
      const node = isMap(item) ? (item as { getIn(path: unknown[], keepScalar: boolean): unknown }).getIn(pathParts, true) : null;
      return node && typeof node === 'object' ? at(node as Node) : where;
    };
    // The expanded value, so that an alias in a row reads as what it names.
    const flat = flattenK0sctl(hostValues[index]);
    const parsed = RowSchema.safeParse(flat.value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 3)) {
        const fieldPath = issue.path.map(String);
        const sourcePath = flat.fromSsh.has(fieldPath[0] ?? '') ? ['ssh', ...fieldPath] : fieldPath;
        errors.push({
          row,
          ...locate(sourcePath),
          field: fieldPath.join('.') || null,
          message: `${fileName}: host ${row}: ${fieldPath.length ? `${fieldPath.join('.')}: ` : ''}${issue.message}.`,
          remedy: 'Each host needs at least `address:`; optional: name, user, port, role, labels, keyPath, auth, jumpHost.',
        });
      }
      return;
    }
    const v = parsed.data;
    const labels = Array.isArray(v.labels) ? v.labels : Object.entries(v.labels ?? {}).map(([k, val]) => `${k}=${String(val)}`);
    const method = v.auth ?? (v.keyPath ? 'key' : 'agent');
    if (method === 'password') {
      errors.push({
        row,
        ...locate(['auth']),
        field: 'auth',
        message: `${fileName}: host ${row}: a host list cannot carry passwords.`,
        remedy: 'Import it with key or agent authentication, then set the password in the host settings (it is sealed there).',
      });
      return;
    }
    if (method === 'key' && !v.keyPath) {
      errors.push({
        row,
        ...where,
        field: 'keyPath',
        message: `${fileName}: host ${row}: auth is key but keyPath is missing.`,
        remedy: 'Add keyPath: (for example ~/.ssh/id_ed25519).',
      });
      return;
    }
    const input = {
      name: v.name ?? defaultName(v.address),
      address: v.address,
      port: v.port,
      user: v.user,
      auth: method === 'key' ? { method: 'key' as const, keyPath: v.keyPath! } : { method: 'agent' as const },
      role: v.role ? ROLE_MAP[v.role] : null,
      labels,
    };
    const checked = HostInputSchema.safeParse(input);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      const field = issue.path.map(String).join('.');
      errors.push({
        row,
        ...locate([issue.path[0] ?? 'address']),
        field,
        message: `${fileName}: host ${row}: ${field}: ${issue.message}.`,
        remedy: 'Correct that field; the other hosts are imported regardless.',
      });
      return;
    }
    rows.push({
      row,
      ...where,
      input: checked.data,
      jumpHostName: v.jumpHost ?? null,
      loginNamed: v.auth !== undefined || v.keyPath !== undefined,
    });
  });
  return { rows, errors };
}

/** k0sctl nests connection details under `ssh:`; lift them to the row. */
function flattenK0sctl(raw: unknown): { value: unknown; fromSsh: Set<string> } {
  if (typeof raw !== 'object' || raw === null || !('ssh' in raw)) return { value: raw, fromSsh: new Set() };
  const { ssh, ...rest } = raw as { ssh: unknown } & Record<string, unknown>;
  if (typeof ssh !== 'object' || ssh === null) return { value: raw, fromSsh: new Set() };
  const { bastion, ...conn } = ssh as Record<string, unknown>;
  const lifted: Record<string, unknown> = { ...rest, ...conn };
  if (bastion && typeof bastion === 'object' && 'address' in bastion) lifted.jumpHost = String((bastion as { address: unknown }).address);
  return { value: lifted, fromSsh: new Set(Object.keys(conn)) };
}

function defaultName(address: string): string {
  const cleaned = address.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return cleaned.slice(0, 63) || 'host';
}
