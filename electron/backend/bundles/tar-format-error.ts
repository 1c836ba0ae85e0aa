/**
 * Why a tar archive cannot be read or written, with the byte offset where it went wrong.
 * The tar code is generic; the bundle code turns this into an ApiError for the operator
 * (BUNDLE_CORRUPT when reading, BUNDLE_BUILD_FAILED when writing).
 */
export class TarFormatError extends Error {
  readonly offset: number | null;

  constructor(detail: string, offset: number | null = null) {
    super(offset === null ? detail : `${detail} (at byte ${offset})`);
    this.name = 'TarFormatError';
    this.offset = offset;
  }
}
