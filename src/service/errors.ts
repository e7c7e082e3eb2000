import { WavebatchError } from '../errors.js';

/** Raised when an export would write where it must not (into the output folder itself). */
export class ExportTargetError extends WavebatchError {
  readonly code = 'INPUT_EXPORT_TARGET';
  constructor(message: string) {
    super(message);
    this.name = 'ExportTargetError';
  }
}
