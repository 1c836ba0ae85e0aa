import fs from 'node:fs';
import path from 'node:path';
import { RuntimeError } from '../runtime-error';

/**
 * Finds the executable a process spec names before anything is spawned, so a typo is a
 * COMMAND_NOT_FOUND error with a remedy instead of a child that dies at once with ENOENT.
 * A name with a slash is taken relative to `cwd`; a bare name is looked up in PATH.
 */
export function resolveCommand(command: string, pathVar: string | undefined, cwd: string): string {
  if (command === '') throw notFound(command, 'the command is empty');
  if (command.includes('/')) {
    const full = path.resolve(cwd, command);
    if (isExecutableFile(full)) return full;
    throw notFound(command, `${full} does not exist or is not an executable file`);
  }
  for (const dir of (pathVar ?? '').split(':')) {
    if (dir === '') continue;
    const full = path.resolve(cwd, dir, command);
    if (isExecutableFile(full)) return full;
  }
  throw notFound(command, `no executable named ${command} in PATH`);
}

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function notFound(command: string, why: string): RuntimeError {
  return new RuntimeError(
    'COMMAND_NOT_FOUND',
    `cannot start ${JSON.stringify(command)}: ${why}`,
    'install the program, fix `command` in the manifest (an absolute path is safest), or set PATH in the process env',
  );
}
