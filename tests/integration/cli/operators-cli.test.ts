// `sutazai operators add|list|set|remove` and `--as` as an operator runs them: the real CLI
// as a child process on one data directory. Passwords come on standard input (the --as
// operator's first, then a command's own), never on the command line. A follow (`events -f`)
// as an operator whom another command then disables ends with the refusal.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetEventLog } from '../../../electron/backend/fleet/events/fleet-event-log';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { addStandInHost } from '../../support/stand-in-rows';
import { makeTempDir } from '../../support/temp-dir';
import { makeWaitFor } from '../../support/wait-for';

const dir = makeTempDir('sutazai-operators-cli-');
const dataDir = path.join(dir.path, 'data');
/** Each command builds nothing after the first, but pays a start and a scrypt or two on a loaded machine. */
const CLI_TIMEOUT_MS = 120_000;

const ADA = 'ada has a long password';
const VERA = 'vera has a long password';
const OTTO = 'otto has a long password';
const waitFor = makeWaitFor({ timeoutMs: CLI_TIMEOUT_MS, pollMs: 100 });

function sutazai(args: string[], stdin = ''): Promise<SutazaiRun> {
  return runSutazaiAsync(args, dataDir, { stdin });
}

/** The error code a failed command printed on stderr. */
const codeOf = (run: SutazaiRun) => /error ([A-Z_]+):/.exec(run.stderr)?.[1];

beforeAll(async () => {
  expect((await sutazai(['help'])).code).toBe(0);
}, CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai operators', () => {
  it(
    'starts with none (commands act as the admin), takes an admin first, then asks every command to sign in with --as',
    async () => {
      const none = await sutazai(['operators', 'list']);
      expect(none.stdout).toContain('No operators');
      expect(none.code).toBe(0);

      const viewerFirst = await sutazai(['operators', 'add', 'vera', '--role', 'viewer'], `${VERA}\n`);
      expect(codeOf(viewerFirst)).toBe('OPERATOR_LAST_ADMIN');
      expect(viewerFirst.code).toBe(2);

      const onArgv = await sutazai(['operators', 'add', 'ada', '--role', 'admin', '--password', ADA]);
      expect(codeOf(onArgv)).toBe('BAD_PARAMS');
      expect(onArgv.code).toBe(2);

      const added = await sutazai(['operators', 'add', 'ada', '--role', 'admin', '--team', 'night shift', '--json'], `${ADA}\n`);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ name: 'ada', role: 'admin', attributes: { team: 'night shift' }, disabled: false });

      const unsigned = await sutazai(['hosts', 'list']);
      expect(codeOf(unsigned)).toBe('SIGN_IN_REQUIRED');
      expect(unsigned.stderr).toContain('remedy: Add --as NAME');
      expect(unsigned.code).toBe(13);

      const wrong = await sutazai(['--as', 'ada', 'hosts', 'list'], 'not the password\n');
      expect(codeOf(wrong)).toBe('SIGN_IN_FAILED');
      expect(wrong.code).toBe(13);

      const listed = await sutazai(['--as', 'ada', 'hosts', 'list', '--json'], `${ADA}\n`);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout).length).toBeGreaterThan(0);
    },
    8 * CLI_TIMEOUT_MS,
  );

  it(
    'lets an admin add, change and remove operators; a viewer is refused with ACCESS_DENIED',
    async () => {
      const vera = await sutazai(
        ['--as', 'ada', 'operators', 'add', 'vera', '--role', 'viewer', '--host-labels', 'rack=b4,zone=2', '--processes', 'agent'],
        `${ADA}\n${VERA}\n`,
      );
      expect(vera.stderr).toBe('');
      expect(vera.stdout).toContain('Operator vera added as viewer.');

      const refused = await sutazai(
        ['--as', 'vera', 'operators', 'add', 'mallory', '--role', 'admin'],
        `${VERA}\nmallory's long password\n`,
      );
      expect(codeOf(refused)).toBe('ACCESS_DENIED');
      expect(refused.stderr).toContain('vera is a viewer, and a viewer may not manage operators (operators.add).');
      expect(refused.code).toBe(13);

      const badHours = await sutazai(['--as', 'ada', 'operators', 'set', 'vera', '--hours', '25:00-26:00'], `${ADA}\n`);
      expect(codeOf(badHours)).toBe('BAD_PARAMS');
      expect(badHours.code).toBe(2);

      const set = await sutazai(
        ['--as', 'ada', 'operators', 'set', 'vera', '--role', 'operator', '--hours', '22:00-06:00', '--processes', '', '--json'],
        `${ADA}\n`,
      );
      expect(set.code).toBe(0);
      expect(JSON.parse(set.stdout)).toMatchObject({
        name: 'vera',
        role: 'operator',
        attributes: { hostLabels: ['rack=b4', 'zone=2'], hours: '22:00-06:00' },
      });
      expect(JSON.parse(set.stdout).attributes.processes).toBeUndefined();

      const list = await sutazai(['--as', 'vera', 'operators', 'list'], `${VERA}\n`);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/ada\s+admin\s+enabled\s+set\s+team=night shift/);
      expect(list.stdout).toMatch(/vera\s+operator\s+enabled\s+set\s+host-labels=rack=b4,zone=2 hours=22:00-06:00/);

      const lastAdmin = await sutazai(['--as', 'ada', 'operators', 'set', 'ada', '--disable'], `${ADA}\n`);
      expect(codeOf(lastAdmin)).toBe('OPERATOR_LAST_ADMIN');

      const reset = await sutazai(['--as', 'ada', 'operators', 'set', 'vera', '--reset-password'], `${ADA}\nvera's second long password\n`);
      expect(reset.code).toBe(0);
      expect(codeOf(await sutazai(['--as', 'vera', 'operators', 'list'], `${VERA}\n`))).toBe('SIGN_IN_FAILED');
      expect((await sutazai(['--as', 'vera', 'operators', 'list'], "vera's second long password\n")).code).toBe(0);

      const removed = await sutazai(['--as', 'ada', 'operators', 'remove', 'vera'], `${ADA}\n`);
      expect(removed.stdout).toContain('Operator vera removed.');
      expect(codeOf(await sutazai(['--as', 'vera', 'hosts', 'list'], "vera's second long password\n"))).toBe('SIGN_IN_FAILED');
      expect(codeOf(await sutazai(['--as', 'ada', 'operators', 'remove', 'vera'], `${ADA}\n`))).toBe('OPERATOR_NOT_FOUND');
    },
    14 * CLI_TIMEOUT_MS,
  );

  it(
    'ends a follow (events -f) as an operator that another command then disables, with exit 13 and the refusal',
    async () => {
      const added = await sutazai(['--as', 'ada', 'operators', 'add', 'otto', '--role', 'viewer'], `${ADA}\n${OTTO}\n`);
      expect(added.code).toBe(0);
      // One event in the store, so the follow shows it has started: it prints what is there first.
      const store = openStore({ dataDir });
      try {
        const host = addStandInHost(store.db, 'alpha', '198.51.100.1');
        const log = createFleetEventLog(store.db, { enforceRetention: false });
        log.append({
          kind: 'action.restart',
          origin: 'operator',
          target: { installName: 'prod', hostId: host.id, hostName: host.name },
          process: 'core',
          message: 'restart core: done',
          actor: 'cli:ops',
        });
        log.close();
      } finally {
        store.close();
      }
      const child = spawn(
        process.execPath,
        [path.resolve(__dirname, '../../../bin/sutazai.mjs'), '--as', 'otto', 'events', '-f', '--json'],
        {
          env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SUTAZAI_'))), SUTAZAI_DATA_DIR: dataDir },
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.stdin.end(`${OTTO}\n`);
      try {
        await waitFor('otto following the events', () => stdout.includes('restart core: done'));
        const disabled = await sutazai(['--as', 'ada', 'operators', 'set', 'otto', '--disable'], `${ADA}\n`);
        expect(disabled.code).toBe(0);
        expect(await exited).toBe(13);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      expect(stderr).toContain('error SIGN_IN_REQUIRED: Sign in as an operator before events.appended');
    },
    4 * CLI_TIMEOUT_MS,
  );
});
