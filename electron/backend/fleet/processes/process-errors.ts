import { ApiError, MAX_REPLICAS, MIN_REPLICAS } from '../../../contract';

/** Every way steering a host's processes or reading their logs is refused here, one code per meaning. */

export function hostNotInstalledError(hostName: string): ApiError {
  return new ApiError(
    'FLEET_HOST_NOT_INSTALLED',
    `Host ${hostName} is in no install, so there is no runtime on it to steer.`,
    'Open an install on the Installs page and pick one of its hosts, or install SutazAI on this host first.',
    { cliRemedy: 'List the installs and their hosts with `sutazai installs list`.' },
  );
}

export function processNotFoundError(hostName: string, name: string, known: readonly string[]): ApiError {
  const list = known.length > 0 ? known.join(', ') : 'none';
  return new ApiError(
    'FLEET_PROCESS_NOT_FOUND',
    `The runtime on ${hostName} runs no process or instance named "${name}" (it runs: ${list}).`,
    "Pick a process from the host's process table.",
    { cliRemedy: `List them with \`sutazai ps ${hostName}\` and use a name from there.` },
  );
}

export function scaleOutOfRangeError(process: string, replicas: number): ApiError {
  return new ApiError(
    'FLEET_SCALE_OUT_OF_RANGE',
    `Cannot scale ${process} to ${replicas} replicas: the supported range is ${MIN_REPLICAS} to ${MAX_REPLICAS}.`,
    `Choose a number of replicas from ${MIN_REPLICAS} to ${MAX_REPLICAS}; to stop the process without removing its instances, stop it instead.`,
    {
      cliRemedy: `Run \`sutazai scale HOST ${process} N\` with N from ${MIN_REPLICAS} to ${MAX_REPLICAS}, or \`sutazai stop HOST ${process}\`.`,
    },
  );
}

export function searchInvalidError(pattern: string, why: string): ApiError {
  return new ApiError(
    'LOG_SEARCH_INVALID',
    `The search /${pattern.length > 80 ? `${pattern.slice(0, 80)}...` : pattern}/ is not a regular expression this app can search with: ${why}.`,
    'Correct the pattern, or search for it as plain text (turn regular expressions off).',
    { cliRemedy: 'Correct the --grep pattern, or add --fixed to search for it as plain text.' },
  );
}

export function searchTooCostlyError(lines: number): ApiError {
  return new ApiError(
    'LOG_SEARCH_TOO_COSTLY',
    `The search over ${lines} lines needs more work than one answer may take (a large pattern over many long lines); it was stopped.`,
    'Search fewer lines (a later start time or fewer lines), or use a shorter pattern or plain text.',
    { cliRemedy: 'Search fewer lines (--since, --lines), or use a shorter pattern or --fixed.' },
  );
}
