import { ApiError } from '../../contract';
import { startBackend, type Backend } from '../app/backend';
import { parseEntryArgs, sharedOptions } from '../app/process-options';
import { EXIT, exitCodeFor } from './exit-codes';
import { formatFacts, formatHostList } from './format-text';

const HELP = `sutazai: the SutazAI Control Center on the command line

Usage: sutazai [--data-dir DIR] [--log-level LEVEL] [--json] <command>

Commands:
  hosts list               the hosts in the inventory
  hosts show <name|id>     the stored facts of one host (probes the local machine if it never was)
  hosts probe <name|id>    probe the host again and store a new snapshot
  help                     this text

Options:
  --data-dir DIR           the data directory (default: per user; or SUTAZAI_DATA_DIR)
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace or silent
  --json                   machine-readable output on stdout

Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 data directory or database, 5 probe failed.`;

interface Output {
  json: boolean;
  print(text: string, value: unknown): void;
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseEntryArgs(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } }, 'sutazai help');
  const out: Output = {
    json: values.json === true,
    print(text, value) {
      process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
    },
  };
  const [group, command, target, ...extra] = positionals;
  if (values.help || group === undefined || group === 'help') {
    process.stdout.write(`${HELP}\n`);
    return group === undefined && !values.help ? EXIT.USAGE : EXIT.OK;
  }
  if (group !== 'hosts' || !['list', 'show', 'probe'].includes(command ?? '') || extra.length > 0) {
    throw new ApiError('BAD_PARAMS', `Unknown command "${positionals.join(' ')}".`, 'Run `sutazai help` for the commands.');
  }
  if ((command === 'show' || command === 'probe') && !target) {
    throw new ApiError('BAD_PARAMS', `"hosts ${command}" needs a host name or id.`, `For this machine: sutazai hosts ${command} local`);
  }

  const options = sharedOptions(values);
  let backend: Backend | undefined;
  try {
    backend = await startBackend({
      dataDir: options.dataDir,
      logLevel: options.logLevel,
      mode: 'cli',
      logToConsole: false,
      sampleLocalHost: false,
      probeAtStart: false,
    });
    const hosts = backend.hosts;
    if (command === 'list') {
      // The first run on a machine has not probed it yet; a list of unknowns helps no one.
      await hosts.factsOrProbe(backend.localHostId);
      const list = hosts.list();
      out.print(formatHostList(list), list);
    } else if (command === 'show') {
      const row = hosts.require(target!);
      const facts = await hosts.factsOrProbe(row.id);
      out.print(formatFacts(row.name, facts), { host: hosts.get(row.id).host, facts });
    } else {
      const row = hosts.require(target!);
      const facts = await hosts.probe(row.id);
      out.print(formatFacts(row.name, facts), { host: hosts.get(row.id).host, facts });
    }
    return EXIT.OK;
  } finally {
    await backend?.close();
  }
}

function report(error: unknown, json: boolean): number {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError('INTERNAL', `Unexpected failure: ${(error as Error)?.message ?? String(error)}`, 'Run again with --log-level debug and send the log with your report.');
  if (json) process.stdout.write(`${JSON.stringify({ error: apiError.toBody() }, null, 2)}\n`);
  process.stderr.write(`error ${apiError.code}: ${apiError.message}\nremedy: ${apiError.remedy}\n`);
  if (!(error instanceof ApiError) && process.env.SUTAZAI_DEBUG) process.stderr.write(`${(error as Error)?.stack}\n`);
  return exitCodeFor(apiError.code);
}

const argv = process.argv.slice(2);
run(argv).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error, argv.includes('--json'))),
);
