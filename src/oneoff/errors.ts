import { WavebatchError } from '../errors.js';

/** Raised for bad one-off job input (missing file, invalid JSON, bad job name): exit code 2, nothing sent. */
export class OneoffInputError extends WavebatchError {
  readonly code = 'INPUT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'OneoffInputError';
  }
}
