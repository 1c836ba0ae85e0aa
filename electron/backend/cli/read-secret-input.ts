import { readFileSync } from 'node:fs';
import { ApiError } from '../../contract';

/**
 * Secrets reach the CLI from a file or standard input, never from argv (visible to
 * every user in the process list) and never echoed back.
 */
export function secretFromFile(file: string, what: string): string {
  try {
    const value = readFileSync(file, 'utf8').split(/\r?\n/, 1)[0] ?? '';
    if (value === '') throw new Error('empty');
    return value;
  } catch (error) {
    throw new ApiError('BAD_PARAMS', `The ${what} file ${file} cannot be read or is empty (${(error as NodeJS.ErrnoException).code ?? 'empty'}).`, `Give a readable file whose first line is the ${what}.`);
  }
}

export async function secretFromStdin(what: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  const value = Buffer.concat(chunks).toString('utf8').split(/\r?\n/, 1)[0] ?? '';
  if (value === '') throw new ApiError('BAD_PARAMS', `No ${what} arrived on standard input.`, `Pipe the ${what} in, for example: cat file | sutazai ... --password-stdin`);
  return value;
}
