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
  const lines = await stdinLines().take(whats.length);
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

/**
 * Secrets a person types at a terminal (not echoed), or else the next lines of standard
 * input: an operator's password for --as, then a command's own (operators add).
 */
export async function secretsFromPromptOrStdin(whats: readonly string[]): Promise<string[]> {
  if (!process.stdin.isTTY) return secretsFromStdin(whats);
  const typed: string[] = [];
  for (const what of whats) typed.push(await promptHidden(`${what}: `));
  return typed;
}

interface LineReader {
  /** The next `count` lines, fewer when standard input ends first. */
  take(count: number): Promise<string[]>;
}

let reader: LineReader | undefined;

/**
 * Standard input's lines, read once and handed out in turn, so that two readers in one
 * command (the --as password, then a command's own secrets) each get their own lines.
 */
function stdinLines(): LineReader {
  if (reader) return reader;
  const lines: string[] = [];
  let partial = '';
  let ended = false;
  let wake: (() => void) | undefined;
  const stdin = process.stdin;
  stdin.setEncoding('utf8');
  stdin.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.map((line) => line.replace(/\r$/, '')));
    wake?.();
  });
  stdin.on('end', () => {
    ended = true;
    if (partial !== '') lines.push(partial.replace(/\r$/, ''));
    partial = '';
    wake?.();
  });
  stdin.pause();
  reader = {
    async take(count) {
      while (lines.length < count && !ended) {
        stdin.resume();
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      stdin.pause();
      return lines.splice(0, count);
    },
  };
  return reader;
}

/** One line typed at the terminal, shown as nothing; Ctrl-C ends the command as an interrupt would. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve) => {
    let typed = '';
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') {
          stdin.off('data', onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write('\n');
          resolve(typed);
          return;
        }
        if (char === '\u0003') {
          stdin.setRawMode(false);
          process.stderr.write('\n');
          process.exit(130);
        }
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else if (char >= ' ') typed += char;
      }
    };
    stdin.on('data', onData);
  });
}
