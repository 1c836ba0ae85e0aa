// Channels on one logged-in connection, against real servers: a command started right after
// an SFTP channel was ended (Dropbear 2022.83 used to drop the whole connection on that),
// and each request a server refuses, with its own code and a remedy naming what was refused.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SFTPWrapper } from 'ssh2';
import { ApiError } from '../../../electron/contract';
import { ChannelRefusedError } from '../../../electron/backend/hosts/ssh/ssh-errors';
import type { SshSession } from '../../../electron/backend/hosts/ssh/ssh-session';
import { openLabSession } from '../../support/lab-session';
import { makeTempDir } from '../../support/temp-dir';
import type { TestHost } from '../../support/test-hosts/test-hosts';
import { useTestLab } from '../../support/test-hosts/use-test-lab';

const labRef = useTestLab();
const tmp = makeTempDir('sutazai-ssh-channels-');
let dropbear: TestHost;
let noSftp: TestHost;

beforeAll(async () => {
  const { lab } = labRef;
  [dropbear, noSftp] = await Promise.all([lab.addDropbearHost(), lab.addSshHost({ login: 'root-key', sftp: false })]);
  // The BusyBox user writes below this directory.
  fs.chmodSync(tmp.path, 0o777);
});

/** The Dropbear process serving the one connection open to `host` (a child of its listener). */
function connectionProcessOf(host: TestHost): number {
  const listener = fs.readFileSync(path.join(labRef.lab.dir, 'hosts', host.namespace, 'dropbear.pid'), 'utf8').trim();
  const children = fs.readFileSync(`/proc/${listener}/task/${listener}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  expect(children).toHaveLength(1);
  return Number(children[0]);
}

afterAll(() => tmp.remove());

function writeFile(sftp: SFTPWrapper, file: string, content: string): Promise<void> {
  return new Promise((resolve, reject) => sftp.writeFile(file, content, (error) => (error ? reject(error) : resolve())));
}

async function refusal(promise: Promise<unknown>): Promise<ChannelRefusedError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ChannelRefusedError);
  expect((error as ApiError).code).toBe('SSH_CHANNEL_REFUSED');
  return error as ChannelRefusedError;
}

describe('a command right after an SFTP channel was ended', () => {
  it('runs on Dropbear every time, on the same connection', async () => {
    const session: SshSession = await openLabSession(dropbear);
    try {
      const outputs: string[] = [];
      for (let round = 0; round < 20; round += 1) {
        const sftp = await session.sftp();
        await writeFile(sftp, `${tmp.path}/round-${round}`, `${round}\n`);
        // Ended, not waited for: what stageFiles does before the step's script runs.
        sftp.end();
        outputs.push((await session.exec(`cat ${tmp.path}/round-${round}`)).stdout);
      }
      expect(outputs).toEqual(Array.from({ length: 20 }, (_, round) => `${round}\n`));
      expect(session.lost).toBeNull();
    } finally {
      session.close();
    }
  }, 120_000);
});

describe('a request the server refuses', () => {
  it("an exec request (the server cannot make the command's pipes): SSH_CHANNEL_REFUSED naming the command, and the connection stays", async () => {
    const session = await openLabSession(dropbear);
    try {
      // Dropbear serves each connection from one child of its listener; with no file
      // descriptor left to it, its pipe() for the command fails and it refuses the request.
      const served = connectionProcessOf(dropbear);
      const soft = /^Max open files\s+(\d+)/m.exec(fs.readFileSync(`/proc/${served}/limits`, 'utf8'))![1]!;
      execFileSync('prlimit', [`--pid=${served}`, `--nofile=${fs.readdirSync(`/proc/${served}/fd`).length}:`]);
      const error = await refusal(session.exec('echo never'));
      execFileSync('prlimit', [`--pid=${served}`, `--nofile=${soft}:`]);
      expect(error.request).toBe('exec');
      expect(error.message).toBe(
        `Host ${dropbear.name} (${dropbear.address}:22) refused to start a command for this login (Unable to exec).`,
      );
      expect(error.remedy).toMatch(/refused the exec request/);
      expect((await session.exec('echo still here')).stdout).toBe('still here\n');
    } finally {
      session.close();
    }
  });

  it('the sftp subsystem of an sshd that has none: SSH_CHANNEL_REFUSED naming SFTP, and commands still run', async () => {
    const session = await openLabSession(noSftp);
    try {
      const error = await refusal(session.sftp());
      expect(error.request).toBe('sftp');
      expect(error.message).toMatch(/offers no SFTP service to this login \(Unable to start subsystem: sftp\)/);
      expect(error.remedy).toMatch(/refused the sftp subsystem/);
      expect((await session.exec('echo still here')).stdout).toBe('still here\n');
    } finally {
      session.close();
    }
  });
});
