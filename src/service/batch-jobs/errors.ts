import { describeError, WavebatchError } from '../../errors.js';
import { GeminiApiError } from '../../gemini/index.js';

/** Raised for bad one-off job input (missing file, invalid JSON, bad job name): exit code 2, nothing sent. */
export class OneoffInputError extends WavebatchError {
  readonly code = 'INPUT_INVALID';
}

/** Raised when a named batch job does not exist in the project: exit code 2, a typo or another project's job. */
export class OneoffJobNotFoundError extends WavebatchError {
  readonly code = 'INPUT_JOB_NOT_FOUND';
  constructor(readonly jobName: string) {
    super(
      `No batch job ${jobName} in this project; list the project's jobs with \`wavebatch jobs\` and check the name.`,
    );
  }
}

/**
 * A submit's create call got no answer it could trust (a timeout, a connection reset, a 5xx), and
 * Google may have created the job all the same: submitting again could make a second job, billed
 * again. Exit code 1.
 */
export class JobOutcomeUnknownError extends WavebatchError {
  readonly code = 'JOB_OUTCOME_UNKNOWN';
  constructor(
    readonly displayName: string,
    cause: unknown,
    /** The uploaded input kept for the job that may exist; undefined for inline requests. */
    readonly inputFile?: string,
  ) {
    super(
      `Creating batch job "${displayName}" got no answer (${describeError(cause)}): Google may have created it. ` +
        (inputFile !== undefined
          ? `No job reading its input ${inputFile} was found, but it may still appear. `
          : '') +
        `Check \`wavebatch jobs\` for a job named "${displayName}" before submitting again: a second submit makes a second job, billed again.`,
      { cause },
    );
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
