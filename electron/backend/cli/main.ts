import { runResetAdminCommand } from './break-glass-command';
import { ApiError, remedyForCli, type ApiClient } from '../../contract';
import { startBackend, type Backend, type BackendConfig } from '../app/backend';
import { parseEntryArgs, sharedOptions, type BackendOptions } from '../app/process-options';
import { BUNDLE_COMMANDS, runBundleCommand } from './bundle-commands';
import { CONFIG_COMMANDS, runConfigCommand } from './config-commands';
import { CONFIG_BUNDLE_COMMANDS, runConfigBundleCommand } from './config-bundle-commands';
import { runEventsCommand } from './events-command';
import { EXIT, exitCodeFor } from './exit-codes';
import { FLEET_COMMANDS, negativeCountLast, runFleetCommand, usage } from './fleet-commands';
import { INSTALL_COMMANDS, runInstallCommand } from './install-commands';
import { runVaultCommand, VAULT_COMMANDS } from './vault-commands';
import { runAlertsCommand } from './alerts-commands';
import { runPolicyCommand } from './policy-command';
import { AUDIT_COMMANDS, runAuditCommand } from './audit-commands';
import { runSupportCommand, SUPPORT_COMMANDS } from './support-commands';
import { runBackupCommand, runRestoreCommand } from './backup-commands';
import { runPrometheusTargetsCommand } from './prometheus-targets-command';
import { OPERATOR_COMMANDS, runOperatorsCommand } from './operators-commands';
import { runAccessCommand, runOperatorCertificateCommand } from './credential-commands';
import { runOperatorsMfaCommand } from './operators-mfa-commands';
import { runSessionsCommand, SESSIONS_COMMANDS } from './sessions-commands';
import { secretsFromPromptOrStdin } from './read-secret-input';
import { printResult, writeErr, writeJson, writeJsonLine, writeOut } from './terminal-output';
import {
  hostsAdd,
  hostsImport,
  hostsList,
  hostsPreflight,
  hostsProbe,
  hostsRemove,
  hostsShow,
  hostsTrust,
  type CommandContext,
} from './hosts-commands';

const HELP = `sutazai: the SutazAI Control Center on the command line

Usage: sutazai [global options] <command>

Hosts:
  hosts list                         the inventory (probes this machine on first use)
  hosts show <host>                  the stored facts of a host (probes the local machine if it never was)
  hosts add <name> --address A [--port N] [--user U]
            [--key PATH [--key-passphrase-file F] | --password-file F | --password-stdin]
            [--sudo-password-file F] [--jump HOST] [--role core|agent|both] [--label L]...
            [--trust SHA256:...]     add an SSH host, show its host key and pin it once confirmed
  hosts import <file.yaml>           add hosts from a YAML list (per-row errors; see README)
  hosts trust <host> [--trust SHA256:...]
                                     confirm (or re-confirm, after a change) the host's key
  hosts trust --known-hosts FILE     pin keys from an OpenSSH known_hosts file for hosts without one
  hosts probe <host>... [--concurrency N] [--timeout SECONDS]
                                     probe hosts in parallel, with progress per host
  hosts preflight <host>... --profile core|agent|agent-gpu
                                     judge the hosts' newest facts against a requirement profile
  hosts remove <host>                remove an SSH host and its sealed secrets

Install configuration (no database needed). Layers, lowest first: defaults.yaml, then
environments/<env>.yaml (in --config-dir DIR, SUTAZAI_CONFIG_DIR or the app's config/), each
--file, --host-file, then SUTAZAI_<SECTION>__<KEY> variables such as SUTAZAI_RUNTIME__GRPC_PORT:
  config check [--env development|staging|production] [--file install.yaml]... [--host-file F]
                                     merge the layers and check them; errors name file:line:column
  config show [same options] [--key runtime.grpc_port]
                                     the merged value of a key (or all) and the layer that set it
  config diff <before.yaml> <after.yaml> [--env E] [--host-file F]
                                     what changed between two install files, key by key

Configuration exports (see README "Configuration bundles"): hosts, host keys, installs and
trusted bundle keys, to move a site's configuration offline or keep it under version control:
  config export --out F [--install NAME] [--with-secrets [--export-passphrase-file F]] | --yaml
                                     a signed .sutazai-config bundle (secrets only with --with-secrets,
                                     sealed to an export passphrase), or deterministic YAML (no secrets)
  config review <file> [--export-passphrase-file F]
                                     check the file and compare it with this store item by item:
                                     new, changed (field by field), unchanged, CONFLICT, blocked
  config import <file> [--sha256 HEX] [--item ID]... [--trust-exporter SHA256:...]
            [--export-passphrase-file F | --without-secrets]
                                     apply every new and changed item (conflicts only when chosen
                                     with --item), in one transaction; importing again changes nothing.
                                     --sha256 (printed by review) refuses a file changed since; without
                                     it, the review printed first is the one applied
  config keys [--revoke SHA256:...]  this control center's export signing key and the trusted exporters;
                                     --revoke stops trusting one (its bundles are untrusted again)

Release bundles (signed, offline; see README "Release bundles"):
  bundle keygen <file.pem>           write a new Ed25519 signing key (mode 0600) and print its fingerprint
  bundle build --key F [--out F] [--version V] [--node-x64 P] [--node-arm64 P]
            [--runtime-dir D] [--control-center RANGE] [--key-label L]
                                     build the runtime and programs from this checkout, then a signed bundle
  bundle verify <file> [--trust-key SHA256:...]
                                     check archive, checksums, signature, compatibility and signer; store nothing
  bundle import <file> [--trust-key SHA256:...]
                                     verify, then keep a copy in the data directory; a new signing key
                                     is trusted only when confirmed (--trust-key, or y on a terminal)
  bundle list                        the imported bundles
  bundle keys                        the trusted bundle signing keys

Installs (an install file names the bundle, the hosts and roles, the configuration layers;
see README "Installing"):
  plan --install F                   connect to every host and say, step by step, what apply
                                     would do and what is already done; changes nothing
  apply --install F [--concurrency N] [--allow-downgrade]
                                     install: upload, unpack, configure, start, wait for health,
                                     switch current; resumes after a break; prints host  step  status.
                                     A newer bundle is a rolling upgrade: hosts switch one at a time,
                                     and one that is not healthy in time returns to its release.
                                     An older bundle is a downgrade: refused without --allow-downgrade
  rollback --install F [--host H] [--to VERSION]
                                     return hosts to a kept release (default: the previous one),
                                     health-gated: one that does not come up returns to what it ran
  uninstall --install F [--host H]   stop the runtime and its processes, remove the service and
                                     exactly what the install made on the host (its releases too)
  help                               this text

A site's own monitoring (see README "A site's own Prometheus and Grafana"):
  prometheus-targets --install NAME [--out FILE]
                                     the install's runtimes as Prometheus file_sd targets
                                     (labels install, host, role), for runtimes whose /metrics
                                     is served beyond loopback (runtime.metrics_listen_address)

Alerts (rules in config/alerts/*.yaml and the data directory's alerts/; evaluated by the
desktop app or web mode, which store what fires):
  alerts [--ack ID] [--rules]        the firing, pending and recently resolved alerts; --ack
                                     records that you saw one; --rules lists the loaded rules
                                     and each rule-file error with its file:line:column

Access policy (installs under access_control: abac; rules in config/policies/*.yaml and the
data directory's policies/):
  policy                             the loaded rules with their file:line:column, each file or
                                     rule that did not load (exit 2) and each rule that selects
                                     no install, host, process or operator that exists

Installed hosts (through each host's runtime; hosts by name, installs by name):
  installs list                      the recorded installs, their hosts, roles and releases
  status [--install N] [--watch]     each host of the installs: processes by state and health
                                     (--watch: again every 2 s until Ctrl-C)
  ps <host>                          the host's processes: instance, replica, state, health,
                                     pid, uptime, restarts, CPU, RSS
  logs <host> <process|instance> [-f] [--since T] [--grep RE [--fixed] [--ignore-case]]
       [--lines N]                   an instance's last lines (200), since T (a time or 30s,
                                     10m, 2h, 1d), matching RE (linear-time: no back-references
                                     or look-around; --fixed: plain text); -f follows until Ctrl-C
  start|stop|restart <host> <process>
                                     every instance of the process; recorded with who ran it
  scale <host> <process> <N>         N replicas (0-64) through the runtime, without restarting
                                     the others; kept in the install, so apply keeps it

Events (what the hosts' runtimes reported, links up and down, operator actions):
  events [-f] [--since T] [--host H] the fleet's events, oldest first: from T (a time, or 30s,
                                     10m, 2h, 1d back) or the last 50; -f then follows each new
                                     one until Ctrl-C; --json: an array (with -f, one JSON
                                     object per line)

Audit log (every state-changing action: who, when, from where, what, and the outcome;
hash-chained and append-only; filters: --who W --action A --target T
--outcome ok|error|refused|CODE --since T; refused: not signed in, role or policy, step-up...):
  audit verify [--anchor SEQ:HASH]   check every entry against its hash and the one before it;
                                     exits 14 and names the first entry edited, removed or
                                     reordered; --anchor: an entry noted earlier must still be there
  audit verify --host H | --install I   the same for each runtime's own audit log, read from
                                     its host over SSH (the pinned key; as root where the
                                     install is system-wide); exits 14 when any is broken, or
                                     no longer holds the newest entry found intact before
  audit accept-reset --host H --anchor SEQ:HASH   an admin takes H's runtime log as it is now
                                     (a reinstalled runtime): SEQ:HASH becomes the entry later
                                     verifies check; audited
  audit list [filters] [--limit N]   the newest entries (50, up to 1000), oldest first
  audit export [filters] [--out F]   every entry as JSON lines, oldest first (F is created 0600)

Backup of the control center (the store, with its sealed secrets still sealed, and the
release bundles; see README "Backup and restore"):
  backup --out F                     a consistent copy while the app runs (SQLite's online
                                     backup), to a new file F (0600); an admin's, audited
  restore F [--force]                unpack F into the data directory (--data-dir): refused
                                     onto one that holds anything unless --force, never onto
                                     one a running app serves, and a newer backup is refused

Support bundles (for a vendor: state, processes, last logs, events, alerts, facts, preflight,
merged configuration with each key's layer, this app's log lines, versions; passwords, tokens,
private keys and the vault's secrets are always replaced before anything is written):
  support bundle --install NAME | --host HOST (--out FILE | --preview) [--log-mb N]
            [--redact-addresses] [--redact-host-names] [--rule NAME=TEXT | NAME=/REGEX/]...
                                     collect, list every redaction (file:line, rule, masked text),
                                     then write one .tar with a manifest; --preview writes nothing;
                                     N MiB of each instance's log (1); addresses and host names
                                     become ip-N and host-N, the same everywhere
  support analyze FILE               findings with remedies (crash-loops and their last lines,
                                     full filesystems, exited processes, firing alerts), offline

Vault (the sealed SSH passwords, key passphrases and install CA keys):
  vault change-passphrase [--new-passphrase-file F]
                                     re-seal every stored secret under a new passphrase (12+
                                     characters); the current one from --passphrase-file,
                                     SUTAZAI_PASSPHRASE or standard input, the new one from
                                     the file or the next line of standard input

Operators (once one exists, every command signs in with --as; the first must be an admin):
  operators list                     the operators, their roles, states and attributes
  operators add <name> --role viewer|operator|admin [--team T] [--installs A,B]
            [--host-labels rack=b4,...] [--processes agent,...] [--hours 08:00-18:00]
                                     a new operator; the password is asked for (not shown)
                                     or read from standard input, 12+ characters
  operators set <name> [--role R] [--team T] [--installs ...] [--host-labels ...]
            [--processes ...] [--hours ...] [--reset-password] [--clear-provider-subject] [--disable | --enable]
                                     change an operator (an empty value removes an attribute);
                                     an enabled admin always remains
  operators remove <name>            remove an operator (the last one: back to no sign-in)
  operators reset-admin <name>       break-glass when every admin is locked out: run on the
                                     machine by the data directory's owner (or root), no --as;
                                     makes <name> an enabled admin with a new password and no
                                     two-factor enrolment, ends its browser sign-ins; audited
  operators mfa enrol <name>         two-factor sign-in (TOTP): shows the QR code and the secret,
                                     reads the first code the app shows (asked for, or the next
                                     line of standard input), prints 10 one-time recovery codes
                                     (shown once); another operator's: an admin's
  operators mfa reset <name>         drop an operator's two-factor sign-in (a lost device)
  operators mfa step-up on|off       ask a fresh code before install, upgrade, rollback,
                                     uninstall, trusting a key and managing operators
                                     (--as NAME --code)
  operators mfa require-web on|off   require two-factor sign-in of every operator of web mode
                                     for a team: one without it enrols at its next sign-in
                                     there, before any session (--as NAME --code)
  operators certificate issue <name> --install I --out DIR [--valid-hours N]
                                     a client certificate of the install's CA naming the
                                     operator and role (authentication_method: mtls), valid
                                     24 h by default (at most 720); writes NAME.crt, NAME.key
                                     (0600, kept nowhere else) and install-ca.crt
  operators certificate list [<name>]
                                     operators' certificates: serial, role, install, state
  operators certificate revoke <serial> | --all <name>
                                     revoke; every linked runtime is told at once (removing
                                     or disabling an operator revokes theirs)
  sessions list                      web mode's browser sign-ins (an admin: everyone's)
  sessions revoke <id> | --operator <name>
                                     end one browser session, or every one of an operator
  access rotate-key --install I      a new token key for the install (jwt); tokens of the old
                                     key are refused once the runtimes are pushed the new one

Global options:
  --as NAME                the operator this command acts as; the password is asked for, or
                           read from the first line of standard input
  --code                   with --as: a two-factor code (or a recovery code) too, asked for
                           after the password or read from the next line; it also counts
                           as the step-up for admin actions
  --data-dir DIR           the data directory (default: per user; or SUTAZAI_DATA_DIR)
  --log-level LEVEL        fatal, error, warn, info (default), debug, trace or silent
  --passphrase-file F      the passphrase that seals stored passwords (or SUTAZAI_PASSPHRASE)
  --json                   machine-readable output on stdout

Secrets are read from files or standard input, never from the command line.
Exit codes: 0 ok, 1 failure, 2 usage or invalid input, 3 not found, 4 data directory or
database, 5 probe failed, 6 host key not trusted or changed, 7 connection or login failed,
8 sealed secrets locked or wrong passphrase, 9 preflight warned, 10 preflight failed,
11 bundle refused (damaged, tampered, unsigned by a trusted key, or incompatible), 12 install
failed on a host (no space, no privilege, a step failed, not healthy in time), 13 sign-in
needed or failed, a two-factor code needed or wrong, or the operator's role does not allow
the command.`;

const COMMAND_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean' },
  address: { type: 'string' },
  port: { type: 'string' },
  user: { type: 'string' },
  key: { type: 'string' },
  'key-passphrase-file': { type: 'string' },
  'password-file': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'sudo-password-file': { type: 'string' },
  jump: { type: 'string' },
  role: { type: 'string' },
  label: { type: 'string', multiple: true },
  trust: { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
  profile: { type: 'string' },
  'known-hosts': { type: 'string' },
  env: { type: 'string' },
  file: { type: 'string', multiple: true },
  'host-file': { type: 'string' },
  'config-dir': { type: 'string' },
  out: { type: 'string' },
  version: { type: 'string' },
  'node-x64': { type: 'string' },
  'node-arm64': { type: 'string' },
  'runtime-dir': { type: 'string' },
  'control-center': { type: 'string' },
  'key-label': { type: 'string' },
  'trust-key': { type: 'string' },
  install: { type: 'string' },
  host: { type: 'string' },
  to: { type: 'string' },
  'allow-downgrade': { type: 'boolean' },
  'new-passphrase-file': { type: 'string' },
  follow: { type: 'boolean', short: 'f' },
  since: { type: 'string' },
  grep: { type: 'string' },
  fixed: { type: 'boolean' },
  'ignore-case': { type: 'boolean' },
  lines: { type: 'string' },
  watch: { type: 'boolean' },
  ack: { type: 'string' },
  rules: { type: 'boolean' },
  who: { type: 'string' },
  action: { type: 'string' },
  target: { type: 'string' },
  outcome: { type: 'string' },
  anchor: { type: 'string' },
  limit: { type: 'string' },
  as: { type: 'string' },
  // sessions revoke --operator NAME
  operator: { type: 'string' },
  code: { type: 'boolean' },
  team: { type: 'string' },
  installs: { type: 'string' },
  'host-labels': { type: 'string' },
  processes: { type: 'string' },
  hours: { type: 'string' },
  'reset-password': { type: 'boolean' },
  'clear-provider-subject': { type: 'boolean' },
  disable: { type: 'boolean' },
  enable: { type: 'boolean' },
  'log-mb': { type: 'string' },
  'redact-addresses': { type: 'boolean' },
  'redact-host-names': { type: 'boolean' },
  rule: { type: 'string', multiple: true },
  preview: { type: 'boolean' },
  yaml: { type: 'boolean' },
  'with-secrets': { type: 'boolean' },
  'without-secrets': { type: 'boolean' },
  'export-passphrase-file': { type: 'string' },
  'trust-exporter': { type: 'string' },
  sha256: { type: 'string' },
  revoke: { type: 'string' },
  item: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  'valid-hours': { type: 'string' },
  all: { type: 'string' },
} as const;

const HOST_COMMANDS = ['list', 'show', 'add', 'import', 'trust', 'probe', 'preflight', 'remove'];

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseEntryArgs(negativeCountLast(argv), COMMAND_OPTIONS, 'sutazai help');
  const [group, command, ...args] = positionals;
  if (values.help || group === undefined || group === 'help') {
    writeOut(HELP);
    return group === undefined && !values.help ? EXIT.USAGE : EXIT.OK;
  }
  const json = values.json === true;
  const print = (text: string, value: unknown) => printResult(json, text, value);
  // restore starts no backend, so no operator signs in: --as would ask a password for nothing.
  if (group === 'restore' && values.as !== undefined)
    throw usage(
      '`restore` signs no one in: it starts no backend and needs only the data directory to be yours (--as is not taken).',
      'sutazai restore site.sutazai-backup --data-dir /srv/sutazai',
    );
  // Break-glass is for when no admin can sign in: the data directory is its proof, not an operator.
  if (group === 'operators' && command === 'reset-admin') {
    if (values.as !== undefined)
      throw usage(
        '`operators reset-admin` signs no one in: it is for when no admin can, and needs only the data directory to be yours (--as is not taken).',
        'sutazai operators reset-admin ada --data-dir /srv/sutazai',
      );
    return runResetAdminCommand({ args, print, dataDir: sharedOptions(values).dataDir });
  }
  // The --as password first, before any command reads its own secrets from standard input.
  const signIn = typeof values.as === 'string' ? await signInFromInput(values.as, values.code === true) : undefined;
  if (values.code === true && signIn === undefined)
    throw new ApiError('BAD_PARAMS', '--code goes with --as: it is the two-factor code of the operator signing in.', 'Add --as NAME.');
  const inSession = (start: () => Promise<Backend>, command: (api: () => Promise<ApiClient>) => Promise<number>) =>
    inSessionAs(signIn, start, command);
  const commandValues = values as Record<string, string | boolean | string[] | undefined>;
  const backend = () => startCliBackend(cliBackendConfig(sharedOptions(values)));
  if (group === 'config' && CONFIG_COMMANDS.includes(command ?? '')) {
    // Files and variables only: no data directory, no database.
    return runConfigCommand({ command: command!, args, values: commandValues, env: process.env, print });
  }
  if (group === 'config' && CONFIG_BUNDLE_COMMANDS.includes(command ?? '')) {
    return inSession(backend, (api) => runConfigBundleCommand({ command: command!, args, values: commandValues, print, api }));
  }
  if (group === 'bundle' && BUNDLE_COMMANDS.includes(command ?? '')) {
    // keygen and build need no data directory; the others open the store on first use.
    return inSession(backend, (api) =>
      runBundleCommand({
        command: command!,
        args,
        values: commandValues,
        json,
        print,
        progress: (text) => {
          if (!json) writeErr(text);
        },
        api,
      }),
    );
  }
  if (INSTALL_COMMANDS.includes(group)) {
    const installBackend = () => startCliBackend({ ...cliBackendConfig(sharedOptions(values)), configEnv: process.env });
    return inSession(installBackend, (api) =>
      runInstallCommand({
        command: group,
        args: positionals.slice(1),
        values: commandValues,
        json,
        print,
        line: (text) => {
          if (!json) writeOut(text);
        },
        api,
      }),
    );
  }
  if (group === 'prometheus-targets') {
    return inSession(backend, (api) =>
      runPrometheusTargetsCommand({ args: positionals.slice(1), values: commandValues, json, print, out: writeOut, warn: writeErr, api }),
    );
  }
  if (group === 'alerts') {
    return inSession(backend, (api) => runAlertsCommand({ args: positionals.slice(1), values: commandValues, print, api }));
  }
  if (group === 'policy') {
    return inSession(backend, (api) => runPolicyCommand({ args: positionals.slice(1), print, api }));
  }
  if (group === 'audit' && AUDIT_COMMANDS.includes(command ?? '')) {
    return inSession(backend, (api) =>
      runAuditCommand({ command: command!, args, values: commandValues, json, print, out: writeOut, api }),
    );
  }
  if (group === 'backup') {
    return inSession(backend, (api) => runBackupCommand({ args: positionals.slice(1), values: commandValues, print, api }));
  }
  if (group === 'restore') {
    // No backend: nothing may serve the data directory while it is replaced.
    return runRestoreCommand({ args: positionals.slice(1), values: commandValues, print, dataDir: sharedOptions(values).dataDir });
  }
  if (group === 'support' && SUPPORT_COMMANDS.includes(command ?? '')) {
    // analyze opens no backend (runSupportCommand calls api() only for bundle).
    return inSession(backend, (api) => runSupportCommand({ command: command!, args, values: commandValues, print, api }));
  }
  if (FLEET_COMMANDS.includes(group) || group === 'events') {
    // Ctrl-C ends following (a followed log or events, a watched status) as its end: the session closes, the exit is 0.
    const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
    const context = {
      args: positionals.slice(1),
      values: commandValues,
      json,
      print,
      line: (text: string, value: unknown) => (json ? writeJsonLine(value) : writeOut(text)),
      interrupted,
    };
    return inSession(backend, (api) =>
      group === 'events' ? runEventsCommand({ ...context, api }) : runFleetCommand({ ...context, command: group, api }),
    );
  }
  if (group === 'operators' && command === 'mfa') {
    return inSession(backend, (api) => runOperatorsMfaCommand({ args, print, api }));
  }
  if (group === 'operators' && command === 'certificate') {
    return inSession(backend, (api) => runOperatorCertificateCommand({ args, values: commandValues, print, api }));
  }
  if (group === 'access') {
    return inSession(backend, (api) => runAccessCommand({ command: command ?? '', args, values: commandValues, print, api }));
  }
  if (group === 'sessions' && SESSIONS_COMMANDS.includes(command ?? '')) {
    return inSession(backend, (api) => runSessionsCommand({ command: command!, args, values: commandValues, print, api }));
  }
  if (group === 'operators' && OPERATOR_COMMANDS.includes(command ?? '')) {
    return inSession(backend, (api) => runOperatorsCommand({ command: command!, args, values: commandValues, print, api }));
  }
  if (group === 'vault' && VAULT_COMMANDS.includes(command ?? '')) {
    const options = sharedOptions(values);
    // The vault stays locked at start: the command checks the current passphrase itself (no vault is made by it).
    const { vaultKey, ...config } = cliBackendConfig(options);
    // Not beside a serving backend: it would go on with the old key (DATA_DIR_IN_USE names it).
    return inSession(
      () => startBackend({ ...config, claimDataDir: true }),
      (api) =>
        runVaultCommand({
          command: command!,
          args,
          values: commandValues,
          passphrase: vaultKey?.kind === 'passphrase' ? vaultKey.passphrase : undefined,
          print,
          api,
        }),
    );
  }
  if (group !== 'hosts' || !HOST_COMMANDS.includes(command ?? '')) {
    throw new ApiError('BAD_PARAMS', `Unknown command "${positionals.join(' ')}".`, 'Run `sutazai help` for the commands.');
  }
  if (command === 'show' && args.length !== 1) {
    throw new ApiError('BAD_PARAMS', '"hosts show" needs one host name or id.', 'For this machine: sutazai hosts show local');
  }

  return inSession(backend, async (api) => {
    const ctx: CommandContext = {
      api: await api(),
      json,
      values: values as CommandContext['values'],
      args,
      print,
      progress(text) {
        if (!json) writeErr(text);
      },
    };
    switch (command) {
      case 'list':
        return await hostsList(ctx);
      case 'show':
        return await hostsShow(ctx);
      case 'add':
        return await hostsAdd(ctx);
      case 'import':
        return await hostsImport(ctx);
      case 'trust':
        return await hostsTrust(ctx);
      case 'probe':
        return await hostsProbe(ctx);
      case 'preflight':
        return await hostsPreflight(ctx);
      default:
        return await hostsRemove(ctx);
    }
  });
}

/**
 * A command's way to the backend: started on first use, then the contract's client on an
 * in-process pipe to its dispatcher, so a command calls the same methods, parsed and
 * checked the same way, as a window does.
 */
function cliSession(signIn: SignIn | undefined, start: () => Promise<Backend>): { api(): Promise<ApiClient>; close(): Promise<void> } {
  let backend: Backend | undefined;
  let api: ApiClient | undefined;
  return {
    async api() {
      if (!api) {
        backend = await start();
        const client = backend.openClient('cli');
        api = client;
        // Signed in before the command's first call, on the command's own pipe: it lasts as long as the command.
        if (signIn) await client.call('session.signIn', signIn);
      }
      return api;
    },
    async close() {
      api?.close();
      await backend?.close();
    },
  };
}

/** The operator a command acts as (--as), its password, and with --code its two-factor code. */
interface SignIn {
  name: string;
  password: string;
  code?: string;
}

/** The --as secrets, typed at hidden prompts or the first lines of standard input: the password, then the code. */
async function signInFromInput(name: string, withCode: boolean): Promise<SignIn> {
  const [password, code] = await secretsFromPromptOrStdin(
    withCode ? [`password of ${name}`, `two-factor code of ${name}`] : [`password of ${name}`],
  );
  return code === undefined ? { name, password: password! } : { name, password: password!, code };
}

/** Runs a command on its session to the backend, closed however the command ends. */
async function inSessionAs(
  signIn: SignIn | undefined,
  start: () => Promise<Backend>,
  command: (api: () => Promise<ApiClient>) => Promise<number>,
): Promise<number> {
  const session = cliSession(signIn, start);
  try {
    return await command(session.api);
  } finally {
    await session.close();
  }
}

/** A backend for a command, with what the operator should hear at start (a short vault passphrase) on stderr. */
async function startCliBackend(config: BackendConfig): Promise<Backend> {
  const backend = await startBackend(config);
  for (const warning of backend.startupWarnings) process.stderr.write(`warning: ${warning.message}\nremedy: ${warning.remedy}\n`);
  return backend;
}

/** One-shot commands: no sampler, no start-up probe, logs only to the file. */
function cliBackendConfig(options: BackendOptions): BackendConfig {
  return {
    dataDir: options.dataDir,
    logLevel: options.logLevel,
    mode: 'cli',
    logToConsole: false,
    sampleLocalHost: false,
    probeAtStart: false,
    actor: 'cli',
    ...(options.vaultKey ? { vaultKey: options.vaultKey } : {}),
  };
}

function report(error: unknown, json: boolean): number {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(
          'INTERNAL',
          `Unexpected failure: ${(error as Error)?.message ?? String(error)}`,
          'Run again with --log-level debug and send the log with your report.',
        );
  if (json) writeJson({ error: apiError.toBody() });
  writeErr(`error ${apiError.code}: ${apiError.message}\nremedy: ${remedyForCli(apiError)}`);
  if (!(error instanceof ApiError) && process.env.SUTAZAI_DEBUG) writeErr(String((error as Error)?.stack));
  return exitCodeFor(apiError.code);
}

const argv = process.argv.slice(2);
run(argv).then(
  (code) => process.exit(code),
  (error: unknown) => process.exit(report(error, argv.includes('--json'))),
);
