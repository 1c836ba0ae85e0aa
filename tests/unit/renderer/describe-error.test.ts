import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../electron/contract';
import { describeError } from '../../../renderer/src/ui/query-state';

describe('describeError: what the error notice shows', () => {
  it('shows a thrown ApiError and an error body from a job’s status alike: code, message, remedy', () => {
    const error = new ApiError(
      'INSTALL_CANCELLED',
      'The install of lab was cancelled.',
      'Install lab again: it resumes from the bytes already on the host.',
    );
    expect(describeError(error)).toEqual({
      code: 'INSTALL_CANCELLED',
      message: 'The install of lab was cancelled.',
      remedy: 'Install lab again: it resumes from the bytes already on the host.',
    });
    expect(describeError(error.toBody())).toEqual(describeError(error));
  });

  it('says what it can of anything else, with the generic remedy', () => {
    expect(describeError(new Error('socket hang up'))).toMatchObject({
      code: null,
      message: 'socket hang up',
      remedy: expect.stringContaining('Try again'),
    });
    expect(describeError({ code: 'NOT_A_CODE', message: 'm', remedy: 'r' })).toMatchObject({ code: null });
  });
});
