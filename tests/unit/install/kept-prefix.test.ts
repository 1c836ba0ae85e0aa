import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptPrefix } from '../../../electron/backend/install/steps/upload-bundle';
import { makeTempDir } from '../../support/temp-dir';

// What a resume keeps of the partial file the host reported: the reported whole blocks
// when their hash is the local file's, nothing for anything else a host may answer.
const BLOCK = 64 * 1024;
const tmp = makeTempDir('sutazai-kept-prefix-');
const local = path.join(tmp.path, 'bundle');
const content = randomBytes(6 * BLOCK + 777);
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

beforeAll(() => fs.writeFileSync(local, content));
afterAll(() => tmp.remove());

describe('keptPrefix', () => {
  it('keeps the reported blocks when their hash matches, whatever the file on the host grew to since', async () => {
    const reported = { size: 4 * BLOCK, sha256: sha256(content.subarray(0, 4 * BLOCK)) };
    await expect(keptPrefix(reported, local, content.length)).resolves.toBe(4 * BLOCK);
  });

  it.each([
    ['none', null],
    ['an empty file', { size: 0, sha256: sha256(Buffer.alloc(0)) }],
    ['other bytes', { size: 2 * BLOCK, sha256: sha256(randomBytes(2 * BLOCK)) }],
    ['a size that is not whole blocks', { size: 2 * BLOCK + 1, sha256: sha256(content.subarray(0, 2 * BLOCK + 1)) }],
    ['more than the bundle', { size: 7 * BLOCK, sha256: sha256(Buffer.concat([content, Buffer.alloc(7 * BLOCK - content.length)])) }],
  ])('keeps nothing of %s', async (_what, reported) => {
    await expect(keptPrefix(reported, local, content.length)).resolves.toBe(0);
  });
});
