import { ApiError } from '../../../contract';

/** Every way making or reading a support bundle is refused, one code per meaning. */

export function supportRuleInvalidError(rule: string, why: string): ApiError {
  return new ApiError(
    'SUPPORT_RULE_INVALID',
    `The redaction rule "${rule}" is not a regular expression this app can match with: ${why}.`,
    'Correct the rule, or make it plain text (turn regular expression off).',
    { cliRemedy: 'Correct the --rule pattern, or write it as NAME=TEXT for plain text instead of NAME=/REGEX/.' },
  );
}

export function supportRuleTooCostlyError(rule: string): ApiError {
  return new ApiError(
    'SUPPORT_RULE_TOO_COSTLY',
    `The redaction rule "${rule}" needs too much work over this bundle's text to finish in time.`,
    'Make the rule simpler or more specific (plain text is cheapest), or collect less log per process.',
  );
}

export function supportPreviewExpiredError(previewId: string): ApiError {
  return new ApiError(
    'SUPPORT_PREVIEW_EXPIRED',
    `The collection ${previewId} is no longer held (collections are kept ${PREVIEW_KEEP_MINUTES} minutes, the newest ${MAX_HELD_PREVIEWS}, until the backend restarts).`,
    'Collect again, review the new preview, then save.',
  );
}

export function supportOutputExistsError(path: string): ApiError {
  return new ApiError(
    'SUPPORT_OUTPUT_EXISTS',
    `${path} already exists; a support bundle never overwrites a file.`,
    'Choose another file name, or move the existing file away first.',
    { cliRemedy: 'Pass another --out FILE, or move the existing file away first.' },
  );
}

export function supportBundleInvalidError(path: string, why: string): ApiError {
  return new ApiError(
    'SUPPORT_BUNDLE_INVALID',
    `${path} is not a readable support bundle: ${why}.`,
    'Ask for the bundle again (a copy may have been cut short or damaged on its way), and check that it is a support bundle, not a release or configuration bundle.',
  );
}

export function supportBundleTooLargeError(path: string, what: string, limit: number): ApiError {
  return new ApiError(
    'SUPPORT_BUNDLE_TOO_LARGE',
    `${path}: ${what} is larger than the ${Math.round(limit / (1024 * 1024))} MiB this app reads of a support bundle.`,
    'Ask for a bundle collected with less log per process.',
    { cliRemedy: 'Ask for a bundle made with a smaller `sutazai support bundle --log-mb N`.' },
  );
}

export function supportBundleNewerError(path: string, format: number, supported: number): ApiError {
  return new ApiError(
    'SUPPORT_BUNDLE_NEWER',
    `${path} is a support bundle of format ${format}; this app reads format ${supported} and older.`,
    'Analyze it with a control center of the release that made it, or a newer one.',
  );
}

export function supportUploadGoneError(): ApiError {
  return new ApiError(
    'SUPPORT_UPLOAD_GONE',
    'The uploaded bundle is not held for this session (each upload is analyzed once, within ten minutes).',
    'Choose the file and analyze it again.',
  );
}

/** How long a collection is held for its preview and save, and how many at once (each holds its logs in memory). */
export const PREVIEW_KEEP_MINUTES = 30;
export const MAX_HELD_PREVIEWS = 4;
