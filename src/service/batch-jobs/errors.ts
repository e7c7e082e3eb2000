import { WavebatchError } from '../../errors.js';
import { GeminiApiError } from '../../gemini/index.js';

/** Raised for bad one-off job input (missing file, invalid JSON, bad job name): exit code 2, nothing sent. */
export class OneoffInputError extends WavebatchError {
  readonly code = 'INPUT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'OneoffInputError';
  }
}

/** Raised when a named batch job does not exist in the project: exit code 2, a typo or another project's job. */
export class OneoffJobNotFoundError extends WavebatchError {
  readonly code = 'INPUT_JOB_NOT_FOUND';
  constructor(readonly jobName: string) {
    super(
      `No batch job ${jobName} in this project; list the project's jobs with \`wavebatch jobs\` and check the name.`,
    );
    this.name = 'OneoffJobNotFoundError';
  }
}

/** Runs a call about one named job, turning the API's NOT_FOUND into OneoffJobNotFoundError. */
export async function onJob<T>(jobName: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (GeminiApiError.isInstance(error) && error.code === 'NOT_FOUND')
      throw new OneoffJobNotFoundError(jobName);
    throw error;
  }
}
