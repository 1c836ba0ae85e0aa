import { ApiError } from '../../../contract';

/**
 * Every way a configuration export or import is refused: one code each, a message naming
 * the file, and a remedy. A refused import has changed nothing.
 */

const FRESH_COPY =
  'Copy the file again from the exporting control center (or export it again there) and compare its SHA-256 with the one the export printed.';

export function configFileUnreadableError(file: string, cause: unknown): ApiError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why =
    typeof cause === 'string'
      ? cause
      : code === 'ENOENT'
        ? 'it does not exist'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (code ?? String(cause));
  return new ApiError(
    'CONFIG_BUNDLE_UNREADABLE',
    `The configuration file ${file} cannot be read (${why}).`,
    'Give the path of a .sutazai-config or exported .yaml file that the user running the control center can read.',
    { cause },
  );
}

export function configExportUnwritableError(file: string, cause: unknown): ApiError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new ApiError(
    'CONFIG_EXPORT_UNWRITABLE',
    `The export cannot be written to ${file} (${code === 'EEXIST' ? 'a file of that name exists; an export never overwrites one' : (code ?? String(cause))}).`,
    'Choose a new file name in a directory the control center can write to.',
    { cause },
  );
}

export function configBundleDamagedError(file: string, detail: string, cause?: unknown): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_DAMAGED',
    `The configuration bundle ${file} is damaged, incomplete or was altered after it was signed: ${detail}. Nothing was imported.`,
    `An interrupted copy is the usual cause. ${FRESH_COPY}`,
    { cause },
  );
}

export function configBundleTooLargeError(file: string, size: number, limit: number): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_TOO_LARGE',
    `The configuration file ${file} is ${size} bytes; at most ${limit} are read. Nothing was imported.`,
    'Check that this is a configuration export and not another file; export one install at a time if a whole inventory is this large.',
  );
}

export function configFormatNewerError(file: string, format: number): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_FORMAT_NEWER',
    `The configuration file ${file} is of format ${format}, newer than this control center reads. Nothing was imported.`,
    'Upgrade this control center to the version of the one that exported it, or export again from a control center of this version.',
  );
}

export function configExporterUnknownError(file: string, fingerprint: string, label: string): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_EXPORTER_UNKNOWN',
    `The configuration bundle ${file} is signed by a control center this one does not trust yet: ${fingerprint} ("${label}"). Nothing was imported.`,
    'Compare the fingerprint with the one the exporting control center shows (Settings, Configuration export: "This control center signs exports as"); if it matches, confirm it to trust that exporter.',
    {
      cliRemedy: `Compare the fingerprint with \`sutazai config keys\` on the exporting control center; if it matches, import again with --trust-exporter ${fingerprint}.`,
    },
  );
}

export function configPassphraseWrongError(file: string): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_PASSPHRASE_WRONG',
    `The export passphrase does not open the secrets in ${file}. Nothing was imported.`,
    'Type the passphrase chosen when the bundle was exported, or import without its secrets (they are then entered again per host).',
  );
}

export function configPassphraseMissingError(file: string): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_PASSPHRASE_NEEDED',
    `The configuration bundle ${file} carries sealed secrets and no export passphrase was given to open them.`,
    'Give the export passphrase, or choose to import without the secrets.',
    { cliRemedy: 'Give the export passphrase with --passphrase-file FILE (or on standard input), or import with --without-secrets.' },
  );
}

export function configExportPassphraseWeakError(length: number, minimum: number): ApiError {
  return new ApiError(
    'CONFIG_BUNDLE_PASSPHRASE_WEAK',
    `An export passphrase needs at least ${minimum} characters (it got ${length}): the file may be copied anywhere, and guessed offline.`,
    `Choose a longer one: ${minimum} characters or more, for example four unrelated words.`,
  );
}

export function configExportInvalidError(file: string, detail: string): ApiError {
  return new ApiError(
    'CONFIG_EXPORT_INVALID',
    `The configuration export ${file} is not valid: ${detail}. Nothing was imported.`,
    'Fix the file at that line and column (a fresh export shows the expected shape), or export it again.',
  );
}

export function configImportNewerReleaseError(install: string, running: string, inFile: string): ApiError {
  return new ApiError(
    'CONFIG_IMPORT_NEWER_RELEASE',
    `The install ${install} here runs release ${running}, newer than the ${inFile} the file describes; importing it would record an older release than the hosts run. Nothing was imported.`,
    'Leave this install out of the import, or export it again from a control center that knows the newer release.',
  );
}

export function configImportBlockedError(item: string, reason: string): ApiError {
  return new ApiError(
    'CONFIG_IMPORT_BLOCKED',
    `${item} cannot be imported: ${reason}. Nothing was imported.`,
    'Do what the reason asks first (for example import the release bundle), then import again; or leave this item out.',
  );
}

export function configFileChangedError(file: string, reviewed: string, now: string): ApiError {
  return new ApiError(
    'CONFIG_IMPORT_FILE_CHANGED',
    `The configuration file ${file} is not the one reviewed: its SHA-256 is ${now}, the review read ${reviewed}. Nothing was imported.`,
    'Review the file again and import what that review shows (someone or something replaced or changed the file in between).',
    { cliRemedy: 'Run `sutazai config review FILE` again and pass the SHA-256 it prints to `config import --sha256`.' },
  );
}
