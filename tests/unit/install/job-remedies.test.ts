import { describe, expect, it } from 'vitest';
import { INSTALL_JOB_KINDS } from '../../../electron/contract';
import { cancelledError, interruptedError } from '../../../electron/backend/install/jobs/job-remedies';

/** What a window shows must not send its reader to API methods or command-line flags. */
const NAMES_API_OR_CLI = /\b(installs|hosts|bundles|wizard|secrets)\.[a-z]\w*|\s--[a-z]|\bsutazai [a-z]/;

describe('what to do about a job cut short', () => {
  it.each(INSTALL_JOB_KINDS)('%s: says to run it again where the app offers it, in words, naming no API method or flag', (kind) => {
    for (const error of [cancelledError(kind, 'lab'), interruptedError(kind, 'lab')]) {
      expect(error.remedy).toMatch(/again/);
      expect(error.remedy).not.toMatch(NAMES_API_OR_CLI);
    }
  });

  it('keeps saying that an install run again resumes its upload', () => {
    expect(cancelledError('apply', 'lab').remedy).toContain('resumes from the bytes already on the host');
    expect(cancelledError('apply', 'lab').remedy).toContain('Install again');
  });
});
