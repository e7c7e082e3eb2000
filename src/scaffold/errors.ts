import { WavebatchError } from '../errors.js';

/** Raised when `wavebatch init` would overwrite files; nothing was written. */
export class ScaffoldExistsError extends WavebatchError {
  readonly code = 'INPUT_INIT_EXISTS';
  constructor(
    readonly folder: string,
    readonly paths: string[],
  ) {
    super(
      `${folder} already holds ${paths.join(', ')}; nothing was written. Choose another folder, or pass --force to overwrite.`,
    );
  }
}

/** Raised when a seed `config.yaml` cannot be read or converted; nothing was written. */
export class SeedConfigError extends WavebatchError {
  readonly code = 'INPUT_SEED_CONFIG';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Raised for an invalid answer or flag of `wavebatch init`. */
export class InitAnswerError extends WavebatchError {
  readonly code = 'INPUT_INIT_ANSWER';
}
