import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TestHost } from '../support/test-hosts/test-hosts';

// The peer of the probe benchmark: Ansible's fact gathering (`ansible all -m setup`) over
// the same test hosts, with Ansible's own defaults (OpenSSH client, ControlMaster with
// ControlPersist=60s, no pipelining, interpreter discovery) except for what must differ:
// its inventory, forks, temp dirs inside the run's dir, and host keys checked against a
// known_hosts file written from the lab's keys (so both sides verify the key they meet).

export interface AnsibleRun {
  ms: number;
  exitCode: number | null;
  /** Hosts with `SUCCESS` and a facts object holding CPU and memory facts. */
  ok: number;
  /** `host: what went wrong` for every host not counted in `ok`. */
  failures: string[];
}

export interface AnsiblePeer {
  version: string;
  /** The settings that differ from Ansible's defaults, for the report. */
  describe: string;
  run(hosts: readonly TestHost[], forks: number): Promise<AnsibleRun>;
}

export const ANSIBLE = '/usr/bin/ansible';

export async function prepareAnsible(dir: string, hosts: readonly TestHost[]): Promise<AnsiblePeer> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const knownHosts = path.join(dir, 'known_hosts');
  fs.writeFileSync(
    knownHosts,
    hosts.map((h) => `${h.port === 22 ? h.address : `[${h.address}]:${h.port}`} ${h.hostPublicKey.trim()}\n`).join(''),
  );
  const config = path.join(dir, 'ansible.cfg');
  fs.writeFileSync(
    config,
    [
      '# written by tests/bench/probe.bench.ts; everything not here is an Ansible default',
      '[defaults]',
      'host_key_checking = True',
      `local_tmp = ${path.join(dir, 'local-tmp')}`,
      // The "remote" hosts share this machine's filesystem: keep their temp files in the run dir too.
      `remote_tmp = ${path.join(dir, 'remote-tmp')}`,
      'nocolor = True',
      'retry_files_enabled = False',
      '',
    ].join('\n'),
  );
  const sshArgs = `-o UserKnownHostsFile=${knownHosts} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes`;
  const inventories = new Map<number, string>();
  const inventoryFor = (count: number): string => {
    let file = inventories.get(count);
    if (file === undefined) {
      file = path.join(dir, `inventory-${count}.yml`);
      const inventory = {
        all: {
          hosts: Object.fromEntries(hosts.slice(0, count).map((h) => [h.name, { ansible_host: h.address, ansible_port: h.port }])),
          vars: {
            ansible_user: hosts[0]?.user ?? 'root',
            ansible_ssh_private_key_file: hosts[0]?.privateKeyPath ?? '',
            ansible_ssh_common_args: sshArgs,
          },
        },
      };
      // JSON is YAML; Ansible's yaml inventory plugin reads it.
      fs.writeFileSync(file, `${JSON.stringify(inventory, null, 2)}\n`);
      inventories.set(count, file);
    }
    return file;
  };
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_CONFIG: config, ANSIBLE_FORCE_COLOR: '0', PYTHONUNBUFFERED: '1' };
  const versionOut = await capture(ANSIBLE, ['--version'], baseEnv);
  const version = versionOut.stdout.split('\n')[0]?.trim() || 'unknown';
  let runs = 0;

  return {
    version,
    describe: `known_hosts from the lab's keys (StrictHostKeyChecking=yes), forks = concurrency, fresh ControlPath dir per run (masters closed after timing), temp dirs in ${dir}`,
    async run(subset, forks) {
      const controlDir = path.join(dir, `cp-${++runs}`);
      fs.mkdirSync(controlDir, { mode: 0o700 });
      const env = { ...baseEnv, ANSIBLE_SSH_CONTROL_PATH_DIR: controlDir };
      const args = ['all', '-i', inventoryFor(subset.length), '-m', 'setup', '-f', String(forks), '-o'];
      const started = performance.now();
      const result = await capture(ANSIBLE, args, env);
      const ms = performance.now() - started;
      await closeControlMasters(controlDir, env);
      const { ok, failures } = judge(subset, result.stdout, result.stderr, result.code);
      return { ms, exitCode: result.code, ok, failures };
    },
  };
}

/** Every host must say SUCCESS with real facts; anything else is named. */
function judge(hosts: readonly TestHost[], stdout: string, stderr: string, code: number | null): { ok: number; failures: string[] } {
  const seen = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    // Not `$`: a failure's message may carry a carriage return (ssh's own output).
    const match = /^(\S+) \| (SUCCESS|CHANGED|FAILED!|UNREACHABLE!)(?: => |: )(.*)/.exec(line);
    if (match) seen.set(match[1] as string, `${match[2]}\t${match[3]}`);
  }
  let ok = 0;
  const failures: string[] = [];
  for (const host of hosts) {
    const entry = seen.get(host.name);
    if (entry === undefined) {
      failures.push(`${host.name}: no result in Ansible's output`);
      continue;
    }
    const [status, rest = ''] = entry.split('\t');
    if (status !== 'SUCCESS') {
      failures.push(`${host.name}: ${status} ${rest.slice(0, 300)}`);
      continue;
    }
    try {
      const facts = (JSON.parse(rest) as { ansible_facts?: Record<string, unknown> }).ansible_facts ?? {};
      if (typeof facts['ansible_processor_vcpus'] === 'number' && typeof facts['ansible_memtotal_mb'] === 'number') ok += 1;
      else failures.push(`${host.name}: SUCCESS without CPU and memory facts`);
    } catch (error) {
      failures.push(`${host.name}: unreadable result (${String(error)})`);
    }
  }
  if (code !== 0 && failures.length === 0) failures.push(`ansible exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return { ok, failures };
}

/** OpenSSH masters outlive `ansible` (ControlPersist); end them so the next run starts cold, like ours. */
async function closeControlMasters(controlDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const sockets = fs.readdirSync(controlDir).map((name) => path.join(controlDir, name));
  await Promise.all(sockets.map((socket) => capture('/usr/bin/ssh', ['-o', `ControlPath=${socket}`, '-O', 'exit', 'bench-master'], env)));
  fs.rmSync(controlDir, { recursive: true, force: true });
}

function capture(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }),
    );
  });
}
