import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import net from 'node:net';
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

/** The names in the inventory, as `hosts list --json` gives them. */
async function hostNames(): Promise<string[]> {
  const list = await sutazai(['hosts', 'list', '--json']);
  expect(list.code, list.stderr).toBe(0);
  // The list, or a page of it (whatever key holds the rows).
  const value = JSON.parse(list.stdout) as Array<{ name: string }> | Record<string, unknown>;
  const rows = Array.isArray(value) ? value : (Object.values(value).find(Array.isArray) as Array<{ name: string }>);
  return rows.map((h) => h.name);
}

// eslint-disable-next-line no-control-regex -- what a terminal acts on: C0 but newline and tab, DEL, C1, bidi controls
const TERMINAL_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

// Each test runs several CLI processes (a Node start, the store, an SSH login each): on a
// loaded machine (npm run test:loaded) the first took over the project's 60 s. A hang bound.
describe('sutazai hosts over SSH', { timeout: 240_000 }, () => {
  it('adds a host, pins its key only when confirmed, probes and judges it', async () => {
    const { lab } = labRef;
    const keyHost = await lab.addSshHost({ login: 'root-key' });
    const pwHost = await lab.addSshHost({ login: 'sudo-password' });

    const added = await sutazai([
      'hosts',
      'add',
      'core-1',
      '--address',
      keyHost.address,
      '--user',
      'root',
      '--key',
      keyHost.privateKeyPath,
      '--trust',
      keyHost.hostKeyFingerprint,
      '--json',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout).host.hostKey).toMatchObject({ fingerprint: keyHost.hostKeyFingerprint, keyType: 'ssh-ed25519' });

    // Without --trust and without a terminal, the key is shown and left untrusted (exit 6).
    const pending = await sutazai(
      ['hosts', 'add', 'agent-1', '--address', pwHost.address, '--user', pwHost.user, '--password-stdin', '--label', 'rack=b4'],
      `${pwHost.password}\n`,
    );
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
    expect(results.map((r) => [r.hostName, r.state])).toEqual([
      ['core-1', 'done'],
      ['agent-1', 'done'],
    ]);
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
      if (entry.isFile())
        expect(fs.readFileSync(path.join(entry.parentPath, entry.name)).includes(pwHost.password!), entry.name).toBe(false);
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
    const unreachable = await sutazai([
      'hosts',
      'add',
      'ghost',
      '--address',
      lab.unreachableAddress(),
      '--key',
      lab.keys.ed25519.path,
      '--trust',
      'SHA256:' + 'A'.repeat(43),
    ]);
    expect(unreachable.code).toBe(7);
    expect(unreachable.stderr).toMatch(/HOST_UNREACHABLE/);
    expect(unreachable.stderr).not.toMatch(/MaxStartups|fail2ban/);
    expect(await hostNames()).not.toContain('ghost');
    const file = path.join(dir.path, 'bad.yaml');
    fs.writeFileSync(file, 'hosts:\n  - address: 198.18.9.9\n    port: 99999\n');
    const imported = await sutazai(['hosts', 'import', file]);
    expect(imported.code).toBe(2);
    expect(imported.stdout).toContain('bad.yaml');
    expect(imported.stdout).toContain('port');
  });

  it('shows what a hostile host put in its facts escaped: OSC 52, a title, colours, C1 and bidi controls never reach the terminal', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    // Root on the managed host names two interfaces with escape sequences (15 bytes at most each).
    const made = await lab.exec(
      host,
      `ip link add name "$(printf 'e\\033]52;c;SGk=\\007')" type veth peer name "$(printf 'x\\342\\200\\256\\302\\2331m')"`,
    );
    expect(made.code, made.stderr).toBe(0);
    expect(
      (
        await sutazai([
          'hosts',
          'add',
          'evil-1',
          '--address',
          host.address,
          '--key',
          host.privateKeyPath,
          '--trust',
          host.hostKeyFingerprint,
        ])
      ).code,
    ).toBe(0);
    expect((await sutazai(['hosts', 'probe', 'evil-1'])).code).toBe(0);

    const shown = await sutazai(['hosts', 'show', 'evil-1']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(shown.stdout).toContain('e\\x1b]52;c;SGk=\\x07');
    expect(shown.stdout).toContain('x\\u202e\\x9b1m');
    const json = await sutazai(['hosts', 'show', 'evil-1', '--json']);
    expect(json.stdout).not.toMatch(TERMINAL_CONTROLS);
    const names = (JSON.parse(json.stdout).facts.network as Array<{ name: string }>).map((n) => n.name);
    expect(names).toEqual(expect.arrayContaining(['e\\x1b]52;c;SGk=\\x07', 'x\\u202e\\x9b1m']));

    // A snapshot stored raw (by a release before the parser escaped) is shown escaped too.
    const db = new Database(path.join(dir.path, 'data', 'sutazai.db'));
    try {
      const row = db
        .prepare(
          "SELECT s.host_id AS hostId, s.probed_at AS probedAt, s.facts FROM facts_snapshots s JOIN hosts h ON h.id = s.host_id WHERE h.name = 'evil-1' ORDER BY s.probed_at DESC LIMIT 1",
        )
        .get() as { hostId: number; probedAt: number; facts: string };
      const facts = JSON.parse(row.facts);
      facts.disks = [
        { device: '/dev/sdz', model: 'disk\x1b]0;owned\x07\x1b[2J\u009b31m\u202e', type: 'SSD', sizeBytes: 1024, rotational: false },
      ];
      facts.probedAt = row.probedAt + 1;
      db.prepare('INSERT INTO facts_snapshots (host_id, probed_at, facts) VALUES (?, ?, ?)').run(
        row.hostId,
        facts.probedAt,
        JSON.stringify(facts),
      );
    } finally {
      db.close();
    }
    const old = await sutazai(['hosts', 'show', 'evil-1']);
    expect(old.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(old.stdout).toContain('disk\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202e');
  });

  it('reads the host clock against the time its output arrived, so a host on this clock shows no skew', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    expect(
      (
        await sutazai([
          'hosts',
          'add',
          'clock-1',
          '--address',
          host.address,
          '--key',
          host.privateKeyPath,
          '--trust',
          host.hostKeyFingerprint,
        ])
      ).code,
    ).toBe(0);
    const before = Date.now();
    expect((await sutazai(['hosts', 'probe', 'clock-1'])).code).toBe(0);
    const { facts } = JSON.parse((await sutazai(['hosts', 'show', 'clock-1', '--json'])).stdout);
    // The same clock: the host read it after the probe began and before its output arrived here.
    expect(facts.clock.epochMs).toBeGreaterThanOrEqual(before);
    expect(facts.clock.epochMs).toBeLessThanOrEqual(facts.probedAt);
  });

  it('adds nothing when --trust names another key or the address has no SSH server', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'root-key' });
    const other = await lab.addSshHost({ login: 'root-key' });
    const wrong = await sutazai([
      'hosts',
      'add',
      'wrong-key',
      '--address',
      host.address,
      '--key',
      host.privateKeyPath,
      '--trust',
      other.hostKeyFingerprint,
    ]);
    expect(wrong.code).toBe(6);
    expect(wrong.stderr).toContain('HOST_KEY_MISMATCH');
    expect(wrong.stderr).toContain(
      `presents ssh-ed25519 ${host.hostKeyFingerprint}, not the ${other.hostKeyFingerprint} given with --trust; wrong-key was not added`,
    );

    // Something takes the connection and drops it without a word (a proxy, a firewall, another service).
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const silent = await sutazai([
        'hosts',
        'add',
        'no-ssh',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--key',
        host.privateKeyPath,
        '--trust',
        host.hostKeyFingerprint,
      ]);
      expect(silent.code).toBe(7);
      expect(silent.stderr).toContain(
        `error NO_SSH_GREETING: Host no-ssh (127.0.0.1:${port}) accepted the connection on port ${port} and closed it`,
      );
      expect(silent.stderr).toContain(`remedy: Check the address and port (\`nc -v 127.0.0.1 ${port}\``);
      const refused = await sutazai(['hosts', 'add', 'refused', '--address', '127.0.0.1', '--port', '1', '--key', host.privateKeyPath]);
      expect(refused.code).toBe(7);
      expect(refused.stderr).toContain('error CONNECTION_REFUSED');
    } finally {
      server.close();
    }
    const names = await hostNames();
    for (const name of ['wrong-key', 'no-ssh', 'refused']) expect(names).not.toContain(name);
  });

  it('does not take a login outside sudoers for one that may sudo with a password', async () => {
    const { lab } = labRef;
    const host = await lab.addSshHost({ login: 'no-sudo' });
    // A key login, so no password is stored that the probe could try with sudo.
    expect(
      (
        await sutazai([
          'hosts',
          'add',
          'plain-1',
          '--address',
          host.address,
          '--user',
          host.user,
          '--key',
          host.privateKeyPath,
          '--trust',
          host.hostKeyFingerprint,
        ])
      ).code,
    ).toBe(0);
    expect((await sutazai(['hosts', 'probe', 'plain-1'])).code).toBe(0);
    const { facts } = JSON.parse((await sutazai(['hosts', 'show', 'plain-1', '--json'])).stdout);
    // `sudo -n true` said "a password is required", as it does to everyone: not sudo rights.
    expect(facts.privilege).toMatchObject({ level: 'none', user: host.user, sudoPasswordVerified: null });
    const preflight = JSON.parse((await sutazai(['hosts', 'preflight', 'plain-1', '--profile', 'agent', '--json'])).stdout);
    expect(preflight.hosts[0].checks.find((c: { id: string }) => c.id === 'privilege')).toMatchObject({
      outcome: 'warn',
      message: 'The login is not root and cannot use sudo.',
    });
  });
});
