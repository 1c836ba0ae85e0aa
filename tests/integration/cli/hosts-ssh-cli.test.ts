import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useTestLab } from '../../support/test-hosts/use-test-lab';
import { makeTempDir } from '../../support/temp-dir';

const root = path.resolve(__dirname, '../../..');
const dir = makeTempDir();
const labRef = useTestLab();
afterAll(() => dir.remove());

/** Runs the real CLI as a child process, with the vault passphrase from the environment. */
function sutazai(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/sutazai.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, SUTAZAI_DATA_DIR: path.join(dir.path, 'data'), SUTAZAI_PASSPHRASE: 'cli test passphrase' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

describe('sutazai hosts over SSH', () => {
  it('adds a host, pins its key only when confirmed, probes and judges it', async () => {
    const { lab } = labRef;
    const keyHost = await lab.addSshHost({ login: 'root-key' });
    const pwHost = await lab.addSshHost({ login: 'sudo-password' });

    const added = await sutazai(['hosts', 'add', 'core-1', '--address', keyHost.address, '--user', 'root', '--key', keyHost.privateKeyPath, '--trust', keyHost.hostKeyFingerprint, '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout).host.hostKey).toMatchObject({ fingerprint: keyHost.hostKeyFingerprint, keyType: 'ssh-ed25519' });

    // Without --trust and without a terminal, the key is shown and left untrusted (exit 6).
    const pending = await sutazai(['hosts', 'add', 'agent-1', '--address', pwHost.address, '--user', pwHost.user, '--password-stdin', '--label', 'rack=b4'], `${pwHost.password}\n`);
    expect(pending.code).toBe(6);
    expect(pending.stderr).toContain(pwHost.hostKeyFingerprint);
    expect(pending.stderr).toContain(`sutazai hosts trust agent-1 --trust ${pwHost.hostKeyFingerprint}`);
    const wrong = await sutazai(['hosts', 'trust', 'agent-1', '--trust', keyHost.hostKeyFingerprint]);
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toContain('HOST_KEY_MISMATCH');
    expect((await sutazai(['hosts', 'trust', 'agent-1', '--trust', pwHost.hostKeyFingerprint])).code).toBe(0);

    const probed = await sutazai(['hosts', 'probe', 'core-1', 'agent-1', '--json']);
    expect(probed.code).toBe(0);
    const results = JSON.parse(probed.stdout).results as Array<{ hostName: string; state: string }>;
    expect(results.map((r) => [r.hostName, r.state])).toEqual([['core-1', 'done'], ['agent-1', 'done']]);
    const nproc = (await lab.exec(keyHost, 'nproc')).stdout.trim();
    const shown = await sutazai(['hosts', 'show', 'agent-1', '--json']);
    expect(JSON.parse(shown.stdout).facts.cpu.threads).toBe(Number(nproc));
    expect(JSON.parse(shown.stdout).facts.privilege.level).toBe('sudo-password');

    const gpu = await sutazai(['hosts', 'preflight', 'core-1', 'agent-1', '--profile', 'agent-gpu', '--json']);
    expect(gpu.code).toBe(10);
    expect(JSON.parse(gpu.stdout).outcome).toBe('fail');
    const agent = await sutazai(['hosts', 'preflight', 'core-1', '--profile', 'agent', '--json']);
    expect(agent.code).toBe({ pass: 0, warn: 9, fail: 10 }[JSON.parse(agent.stdout).outcome as 'pass' | 'warn' | 'fail']);

    // The password went in through stdin and is sealed: not in the data directory anywhere.
    for (const entry of fs.readdirSync(path.join(dir.path, 'data'), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) expect(fs.readFileSync(path.join(entry.parentPath, entry.name)).includes(pwHost.password!), entry.name).toBe(false);
    }
  });

  it('refuses a changed host key with both fingerprints, until it is re-trusted on purpose', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const old = host.hostKeyFingerprint;
    expect((await sutazai(['hosts', 'add', 'db-2', '--address', host.address, '--key', host.privateKeyPath, '--trust', old])).code).toBe(0);
    await lab.rotateHostKey(host);
    const refused = await sutazai(['hosts', 'probe', 'db-2']);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('HOST_KEY_MISMATCH');
    expect(refused.stderr).toContain(old);
    expect(refused.stderr).toContain(host.hostKeyFingerprint);
    expect((await sutazai(['hosts', 'trust', 'db-2', '--trust', host.hostKeyFingerprint])).code).toBe(0);
    expect((await sutazai(['hosts', 'probe', 'db-2'])).code).toBe(0);
  });

  it('pins keys from an OpenSSH known_hosts file, and only for hosts without one', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const pending = await sutazai(['hosts', 'add', 'kh-1', '--address', host.address, '--key', host.privateKeyPath]);
    expect(pending.code).toBe(6);
    const file = path.join(dir.path, 'known_hosts');
    fs.writeFileSync(file, `# written by the test\n${host.address} ${host.hostPublicKey.split(' ').slice(0, 2).join(' ')}\n`);
    const imported = await sutazai(['hosts', 'trust', '--known-hosts', file, '--json']);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout).pinned).toEqual([expect.objectContaining({ name: 'kh-1', fingerprint: host.hostKeyFingerprint })]);
    expect((await sutazai(['hosts', 'probe', 'kh-1'])).code).toBe(0);
  });

  it('tells an unreachable host and a bad host list apart by exit code', async () => {
    const { lab } = labRef;
    const unreachable = await sutazai(['hosts', 'add', 'ghost', '--address', lab.unreachableAddress(), '--key', lab.keys.ed25519.path, '--trust', 'SHA256:' + 'A'.repeat(43)]);
    expect(unreachable.code).toBe(7);
    expect(unreachable.stderr).toMatch(/HOST_UNREACHABLE|HANDSHAKE_TIMEOUT/);
    const file = path.join(dir.path, 'bad.yaml');
    fs.writeFileSync(file, 'hosts:\n  - address: 198.18.9.9\n    port: 99999\n');
    const imported = await sutazai(['hosts', 'import', file]);
    expect(imported.code).toBe(2);
    expect(imported.stdout).toContain('bad.yaml');
    expect(imported.stdout).toContain('port');
  });
});
