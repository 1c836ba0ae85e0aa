import { ApiError } from '../../contract';
import { readCappedText, TextTooLargeError } from '../../../agents-runtime/src/wire';
import { HOST_LIST_LIMITS } from './import-host-list';

/** A host list file's text, refused before it is read whole when it is over the host list limit. */
export function readHostListFile(file: string): string {
  try {
    return readCappedText(file, HOST_LIST_LIMITS.maxBytes);
  } catch (error) {
    if (error instanceof TextTooLargeError) {
      throw new ApiError(
        'CONFIG_YAML_INVALID',
        `${file} ${error.message}; nothing was imported.`,
        `Split the list into files of at most ${HOST_LIST_LIMITS.maxBytes / 1024 / 1024} MiB and import them one by one.`,
      );
    }
    throw new ApiError(
      'BAD_PARAMS',
      `${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).`,
      'Give the path of a readable YAML host list.',
    );
  }
}
