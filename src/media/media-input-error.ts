import { WavebatchError } from '../errors.js';

/** Why a media file cannot become part of a request (the record is dead-lettered with it). */
export type MediaInputCode =
  | 'INPUT_MEDIA_MISSING'
  | 'INPUT_MEDIA_NOT_FILE'
  | 'INPUT_MEDIA_OUTSIDE'
  | 'INPUT_MEDIA_TOO_LARGE'
  | 'INPUT_MEDIA_TYPE'
  | 'INPUT_MEDIA_ENCODING'
  | 'INPUT_MEDIA_CHANGED';

/** Raised when a media file cannot become part of a request. */
export class MediaInputError extends WavebatchError {
  constructor(
    readonly code: MediaInputCode,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}
