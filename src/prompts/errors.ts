import { WavebatchError } from '../errors.js';
/** Stable codes of prompt failures; all are input errors (the CLI exits with 2). */
export type PromptErrorCode =
  | 'PROMPT_NOT_FOUND'
  | 'PROMPT_SYNTAX'
  | 'PROMPT_ENCODING'
  | 'PROMPT_RENDER'
  | 'PROMPT_NAME_INVALID'
  | 'PROMPT_NOT_GROUPED';

/** Raised when a prompt cannot be found, compiled or rendered; the message names the file and what to fix. */
export class PromptError extends WavebatchError {
  constructor(
    readonly code: PromptErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
