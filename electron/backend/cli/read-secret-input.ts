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
    throw new ApiError(
      'BAD_PARAMS',
      `The ${what} file ${file} cannot be read or is empty (${(error as NodeJS.ErrnoException).code ?? 'empty'}).`,
      `Give a readable file whose first line is the ${what}.`,
    );
  }
}

export async function secretFromStdin(what: string): Promise<string> {
  return (await secretsFromStdin([what]))[0]!;
}

/**
 * Several secrets from standard input, one a line, in the order named (`printf 'old\nnew\n' | ...`).
 * A terminal is refused: what is typed there would be echoed on the screen.
 */
export async function secretsFromStdin(whats: readonly string[]): Promise<string[]> {
  if (process.stdin.isTTY) {
    throw new ApiError(
      'BAD_PARAMS',
      `The ${whats.join(' and ')} would be read from a terminal, which echoes what is typed.`,
      `Pipe ${whats.length > 1 ? 'them in, one a line' : 'it in'}, or give ${whats.length > 1 ? 'them' : 'it'} in files (see \`sutazai help\`).`,
    );
  }
  const chunks: Buffer[] = [];
  let newlines = 0;
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    for (const byte of chunk as Buffer) if (byte === 10) newlines++;
    if (newlines >= whats.length) break;
  }
  const lines = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  return whats.map((what, index) => {
    const value = lines[index] ?? '';
    if (value === '')
      throw new ApiError(
        'BAD_PARAMS',
        `No ${what} arrived on standard input${whats.length > 1 ? ` (line ${index + 1})` : ''}.`,
        `Pipe the ${what} in, for example: cat file | sutazai ...`,
      );
    return value;
  });
}
