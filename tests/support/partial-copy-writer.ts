// A stand-in for an import caught while it copies: names a partial copy the way imports do,
// writes 1 MiB to it, prints its path, and waits to be killed.
// Usage: node --import tsx tests/support/partial-copy-writer.ts DIR
import fs from 'node:fs';
import { partialCopyPath } from '../../electron/backend/bundles/partial-copies';

const file = partialCopyPath(process.argv[2]!);
fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 1));
process.stdout.write(`${file}\n`);
setInterval(() => undefined, 60_000);
