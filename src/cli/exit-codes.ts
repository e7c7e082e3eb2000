import type { RunSummary } from '../runner/run-summary.js';

/**
 * The CLI's contract with scripts: what each exit code means, for every command. The README's
 * exit-code table documents exactly these; change both together.
 */
export const ExitCode = {
  /** Everything asked for was done. */
  Done: 0,
  /** Something failed (the API, a job, the disk); retrying later may help. */
  Failed: 1,
  /** The input is wrong (config, arguments, unknown command, option or id); nothing was changed. */
  BadInput: 2,
  /** `run` / `run-once`: the workload has dead-lettered records (see `wavebatch failures --dead`). */
  DeadLetters: 3,
  /** Stopped by Ctrl-C (SIGINT) after saving its state: 128 + 2, as shells report it. */
  Interrupted: 130,
  /** Stopped by SIGTERM after saving its state: 128 + 15. */
  Terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** The signals a run stops gracefully on. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code of `run` / `run-once` from what the run ended with. */
export function runExitCode(summary: RunSummary, stoppedBy: StopSignal | null): ExitCodeValue {
  if (stoppedBy === 'SIGINT') return ExitCode.Interrupted;
  if (stoppedBy === 'SIGTERM') return ExitCode.Terminated;
  // A job whose creation could not be confirmed: the API was unreachable or failed mid-call; or a
  // synchronous request the API failed through every retry, its record still waiting.
  if (summary.unconfirmedJobs > 0 || summary.unansweredRequests > 0) return ExitCode.Failed;
  if (summary.counts.dead > 0) return ExitCode.DeadLetters;
  return ExitCode.Done;
}
