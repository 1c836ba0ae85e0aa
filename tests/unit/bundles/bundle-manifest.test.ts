import { describe, expect, it } from 'vitest';
import { BundleManifestSchema, pathsNamedBy, type BundleManifest } from '../../../electron/backend/bundles/bundle-manifest';
import { formatChecksums, parseChecksums } from '../../../electron/backend/bundles/checksums-file';

const good: BundleManifest = {
  format: 2,
  name: 'sutazai',
  version: '0.1.0',
  createdAt: '2025-05-01T10:00:00.000Z',
  components: {
    runtime: { version: '0.1.0', dependsOn: [], files: ['runtime/sutazai-runtime.cjs'] },
    core: { version: '0.1.0', dependsOn: ['runtime'], files: ['runtime/core.cjs'] },
    agent: { version: '0.1.0', dependsOn: ['runtime', 'core'], files: ['runtime/agent.cjs'] },
  },
  artifacts: { 'linux-x64': { node: 'node/linux-x64/node' } },
  profiles: { core: 'config/profiles/core.yaml' },
  config: 'config',
  processManifest: 'manifests/default.yaml',
  systemdUnit: 'systemd/sutazai-runtime.service',
  sizes: { 'runtime/sutazai-runtime.cjs': 1200, 'node/linux-x64/node': 104_857_600 },
  compatibility: { controlCenter: '>=0.1.0 <0.2.0', runtime: '0.1.0' },
};

function firstIssue(change: (m: Record<string, unknown>) => void): string {
  const copy = structuredClone(good) as unknown as Record<string, unknown>;
  change(copy);
  const result = BundleManifestSchema.safeParse(copy);
  if (result.success) return 'accepted';
  const issue = result.error.issues[0]!;
  return `${issue.path.join('.')}: ${issue.message}`;
}

describe('bundle.json schema', () => {
  it('accepts what the builder writes and names every file it refers to', () => {
    expect(BundleManifestSchema.parse(good)).toEqual(good);
    expect(pathsNamedBy(good).map((n) => n.path)).toEqual([
      'runtime/sutazai-runtime.cjs',
      'runtime/core.cjs',
      'runtime/agent.cjs',
      'node/linux-x64/node',
      'config/profiles/core.yaml',
      'manifests/default.yaml',
      'systemd/sutazai-runtime.service',
    ]);
  });

  it('refuses paths that could leave the unpack folder or hide files', () => {
    expect(firstIssue((m) => ((m.artifacts as Record<string, unknown>)['linux-x64'] = { node: '../node' }))).toMatch(
      /^artifacts.linux-x64.node: a relative path/,
    );
    expect(firstIssue((m) => (m.processManifest = '/etc/passwd'))).toMatch(/^processManifest/);
    expect(firstIssue((m) => (m.processManifest = 'manifests/.hidden'))).toMatch(/^processManifest/);
    expect(firstIssue((m) => (m.processManifest = 'a b.yaml'))).toMatch(/^processManifest/);
  });

  it('refuses unknown fields, other formats, bad versions and ranges, and no architecture', () => {
    expect(firstIssue((m) => (m.extra = true))).toMatch(/Unrecognized key/);
    expect(firstIssue((m) => (m.format = 3))).toMatch(/^format/);
    // Format 2 lists every file's size; format 1 (only in rows stored before it) has none.
    expect(firstIssue((m) => delete m.sizes)).toMatch(/^sizes: format 2 lists the size of every file/);
    expect(firstIssue((m) => (m.format = 1))).toMatch(/^sizes: format 1 has no sizes/);
    expect(firstIssue((m) => ((m.sizes as Record<string, number>)['node/linux-x64/node'] = 2 ** 33))).toMatch(/^sizes/);
    expect(firstIssue((m) => (m.version = '1.0'))).toMatch(/^version: a semantic version/);
    expect(firstIssue((m) => ((m.compatibility as Record<string, string>).controlCenter = '^0.1.0'))).toMatch(
      /^compatibility.controlCenter: a version range/,
    );
    expect(firstIssue((m) => (m.artifacts = {}))).toMatch(/^artifacts: at least one architecture/);
    expect(firstIssue((m) => ((m.artifacts as Record<string, unknown>)['linux-riscv64'] = { node: 'node/x' }))).toMatch(/Unrecognized key/);
  });

  it('refuses components that depend on each other in a circle', () => {
    expect(firstIssue((m) => ((m.components as BundleManifest['components']).runtime.dependsOn = ['agent']))).toMatch(
      /^components: .*circle \((runtime|core|agent) -> .*\)/,
    );
    expect(firstIssue((m) => ((m.components as BundleManifest['components']).core.dependsOn = ['core']))).toMatch(
      /^components.core.dependsOn: core cannot depend on itself/,
    );
  });
});

describe('checksums.sha256', () => {
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);

  it('is what sha256sum writes: sorted, two spaces, a final newline', () => {
    const text = formatChecksums([
      { path: 'z/last', sha256: a },
      { path: 'bundle.json', sha256: b },
    ]);
    expect(text).toBe(`${b}  bundle.json\n${a}  z/last\n`);
    const parsed = parseChecksums(text);
    expect(parsed.ok && [...parsed.files]).toEqual([
      ['bundle.json', b],
      ['z/last', a],
    ]);
  });

  it('refuses malformed lines and duplicates, saying which line', () => {
    expect(parseChecksums(`${a} one-space\n`)).toEqual({ ok: false, reason: 'line 1 is not "<sha256>  <path>"' });
    expect(parseChecksums(`${a}  x\n${a.toUpperCase()}  y\n`)).toEqual({ ok: false, reason: 'line 2 is not "<sha256>  <path>"' });
    expect(parseChecksums(`${a}  x\n${b}  x\n`)).toEqual({ ok: false, reason: 'line 2 lists x a second time' });
    expect(parseChecksums(`${a}  x`)).toEqual({ ok: false, reason: 'it does not end with a newline' });
  });
});
