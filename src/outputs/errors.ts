import { WavebatchError } from '../errors.js';
/** Raised when a record id cannot name a file under the output root (it would escape it, or hide itself). */
export class OutputPathError extends WavebatchError {
  readonly code = 'RECORD_ID_INVALID';
  constructor(
    readonly id: string,
    reason: string,
  ) {
    super(
      `Record id ${JSON.stringify(id)} cannot name an output file: ${reason}. Change how the source derives ids.`,
    );
    this.name = 'OutputPathError';
  }
}

/** Raised when an output file exists but is not a readable output document. */
export class OutputCorruptError extends WavebatchError {
  readonly code = 'OUTPUT_CORRUPT';
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Output file ${path} is corrupt (${reason}); delete it to have the record run again.`, options);
    this.name = 'OutputCorruptError';
  }
}
