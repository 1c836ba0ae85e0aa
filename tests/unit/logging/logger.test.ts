import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createAppLogger } from '../../../electron/backend/logging/logger';
import { RotatingFile } from '../../../electron/backend/logging/rotating-file';
import { makeTempDir } from '../../support/temp-dir';

const dirs: Array<{ remove(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

describe('app logs', () => {
  it('writes structured JSON lines with levels and redacts secrets at any depth', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const log = createAppLogger({ dataDir: dir.path, level: 'info', console: false });
    log.logger.info({ host: 'db-1', password: 'hunter2', auth: { passphrase: 'p4ss' }, a: { b: { token: 'tkn' } } }, 'connecting');
    log.logger.debug({}, 'not at info');
    log.close();
    const lines = fs
      .readFileSync(log.file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, msg: 'connecting', host: 'db-1', password: '[redacted]' });
    const text = fs.readFileSync(log.file, 'utf8');
    for (const secret of ['hunter2', 'p4ss', 'tkn']) expect(text).not.toContain(secret);
    expect((fs.statSync(log.file).mode & 0o777).toString(8)).toBe('600');
  });

  it('rotates by size and keeps a bounded number of files', () => {
    const dir = makeTempDir();
    dirs.push(dir);
    const file = path.join(dir.path, 'logs', 'app.log');
    const rotating = new RotatingFile({ file, maxBytes: 100, keep: 2 });
    for (let i = 0; i < 20; i++) rotating.write(`line ${String(i).padStart(2, '0')} ${'x'.repeat(30)}\n`);
    rotating.close();
    expect(fs.readdirSync(path.dirname(file)).sort()).toEqual(['app.1.log', 'app.2.log', 'app.log']);
    expect(fs.statSync(file).size).toBeLessThanOrEqual(100);
    expect(fs.readFileSync(file, 'utf8')).toContain('line 19');
    expect(fs.readFileSync(path.join(dir.path, 'logs', 'app.1.log'), 'utf8')).toContain('line 17');
  });
});
