// `sutazai sessions list | revoke ID | revoke --operator NAME` (issue 14, item 5): web mode's
// browser sign-ins from the command line, through the API (the real CLI as a child process on
// one data directory, sessions made by the store's own web-session code): an admin lists
// everyone's and ends one or all of an operator's; another operator sees only their own; a
// browser's user agent with terminal escapes is printed as visible escapes.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorsRepo } from '../../../electron/backend/operators/operators-repo';
import { createWebSessions } from '../../../electron/backend/operators/web-sessions';
import { openStore } from '../../../electron/backend/store/open-store';
import { runSutazaiAsync, type SutazaiRun } from '../../support/run-sutazai';
import { makeTempDir } from '../../support/temp-dir';

const dir = makeTempDir('sutazai-sessions-cli-');
const dataDir = path.join(dir.path, 'data');
const CLI_TIMEOUT_MS = 120_000;
const ADA = 'ada has a long password';
const VERA = 'vera has a long password';

const sutazai = (args: string[], stdin = ''): Promise<SutazaiRun> => runSutazaiAsync(args, dataDir, { stdin });
const codeOf = (run: SutazaiRun) => /error ([A-Z_]+):/.exec(run.stderr)?.[1];
const ids: Record<string, number> = {};

beforeAll(async () => {
  expect((await sutazai(['operators', 'add', 'ada', '--role', 'admin'], `${ADA}\n`)).code).toBe(0);
  expect((await sutazai(['operators', 'add', 'vera', '--role', 'operator', '--as', 'ada'], `${ADA}\n${VERA}\n`)).code).toBe(0);
  const store = openStore({ dataDir });
  try {
    const operators = createOperatorsRepo(store.db);
    const idOf = (name: string) => operators.list().find((operator) => operator.name === name)!.id;
    const sessions = createWebSessions({ db: store.db, now: Date.now });
    ids.ada = sessions.create(idOf('ada'), { address: '10.0.0.1', userAgent: 'Firefox' }).id;
    ids.vera1 = sessions.create(idOf('vera'), { address: '10.0.0.2', userAgent: 'Evil \u001b[31mred\u001b[0m agent' }).id;
    ids.vera2 = sessions.create(idOf('vera'), { address: '10.0.0.3', userAgent: 'Chromium' }).id;
  } finally {
    store.close();
  }
}, 3 * CLI_TIMEOUT_MS);
afterAll(() => dir.remove());

describe('sutazai sessions', () => {
  it(
    "lists everyone's for an admin, only one's own for an operator, with hostile bytes shown as escapes",
    async () => {
      const all = await sutazai(['sessions', 'list', '--as', 'ada', '--json'], `${ADA}\n`);
      expect(all.code).toBe(0);
      expect((JSON.parse(all.stdout) as Array<{ id: number }>).map((s) => s.id).sort()).toEqual([ids.ada, ids.vera1, ids.vera2].sort());
      const text = await sutazai(['sessions', 'list', '--as', 'ada'], `${ADA}\n`);
      expect(text.stdout).toMatch(/^ID +OPERATOR +ADDRESS/);
      expect(text.stdout).toContain('Evil \\x1b[31mred\\x1b[0m agent');
      expect(text.stdout).not.toContain('\u001b');
      const own = await sutazai(['sessions', 'list', '--as', 'vera', '--json'], `${VERA}\n`);
      expect((JSON.parse(own.stdout) as Array<{ operator: string }>).map((s) => s.operator)).toEqual(['vera', 'vera']);
    },
    4 * CLI_TIMEOUT_MS,
  );

  it(
    "ends one session by id, then every one of an operator; an operator may not end another's",
    async () => {
      const notYours = await sutazai(['sessions', 'revoke', String(ids.ada), '--as', 'vera'], `${VERA}\n`);
      expect(notYours.code).not.toBe(0);
      const one = await sutazai(['sessions', 'revoke', String(ids.vera1), '--as', 'ada'], `${ADA}\n`);
      expect(one.stdout).toContain(`Session ${ids.vera1} ended.`);
      expect(one.code).toBe(0);
      const theirs = await sutazai(['sessions', 'revoke', '--operator', 'vera', '--as', 'ada', '--json'], `${ADA}\n`);
      expect(JSON.parse(theirs.stdout)).toEqual({ operator: 'vera', revoked: 1 });
      const left = await sutazai(['sessions', 'list', '--as', 'ada', '--json'], `${ADA}\n`);
      expect((JSON.parse(left.stdout) as Array<{ id: number }>).map((s) => s.id)).toEqual([ids.ada]);
      const bad = await sutazai(['sessions', 'revoke', 'seven', '--as', 'ada'], `${ADA}\n`);
      expect(codeOf(bad)).toBe('BAD_PARAMS');
    },
    6 * CLI_TIMEOUT_MS,
  );
});
