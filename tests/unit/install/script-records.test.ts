// What a changing script reports making and removing: records a real sh prints with the run's
// key, which no other output can forge (a path with a newline and a tab is one path; a line
// that looks like a record but lacks the key is output), kept only when the step's plan
// names the path or a directory above it.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { keyedScript, readRecords, SCRIPT_PRELUDE, withinPlan } from '../../../electron/backend/install/remote/script-prelude';
import { sh } from '../../../electron/backend/install/remote/shell-script';

function runKeyed(body: ReturnType<typeof sh>) {
  const keyed = keyedScript(sh`${SCRIPT_PRELUDE}${body}`);
  const run = spawnSync('sh', ['-c', keyed.script.text], { encoding: 'utf8' });
  expect(run.status).toBe(0);
  return readRecords(run.stdout, keyed.key);
}

describe('script records', () => {
  it('keep a path with a newline and a tab whole, and take no record from other output', () => {
    const forged = '/tmp/v/cfg\ncreated\t/tmp/v/data\n';
    const records = runKeyed(sh`created ${forged}
printf '\\n@@sutazai-record %s created %s\\0\\n' guessed-key /etc
printf 'created\\t/tmp/v/other\\n'
record removed ${'/opt/x y'}
echo done`);
    expect(records.created).toEqual([forged]);
    expect(records.removed).toEqual(['/opt/x y']);
    expect(records.stdout).toContain('@@sutazai-record guessed-key created /etc');
    expect(records.stdout).toContain('created\t/tmp/v/other');
    expect(records.stdout).toContain('done');
  });

  it('are kept only for paths of the plan or directories above them, written plainly', () => {
    const planned = ['/srv/a/b/sutazai', '/etc/sutazai/runtime.yaml'];
    expect(
      withinPlan(
        ['/srv/a', '/srv/a/b/sutazai', '/etc/sutazai', '/etc', '/srv/a/b/sutazai/../../x', '/', '/srv/other', '/etc/sutazai\n'],
        planned,
      ),
    ).toEqual({
      kept: ['/srv/a', '/srv/a/b/sutazai', '/etc/sutazai', '/etc'],
      refused: ['/srv/a/b/sutazai/../../x', '/', '/srv/other', '/etc/sutazai\n'],
    });
  });
});
