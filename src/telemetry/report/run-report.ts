import type {
  AttemptGroup,
  CauseCount,
  EventLog,
  JobAttempts,
  RunRow,
  StoredEvent,
} from '../../store/event-log.js';

/** Failures shown per cause in the failure analysis. */
const EXAMPLES_PER_CAUSE = 3;
/** Jobs listed as the slowest. */
const SLOWEST_JOBS = 5;

/** Everything a run's report shows, read from the inference log; rendered by `renderRunReport`. */
export interface RunReport {
  workload: string;
  run: RunRow;
  /** Attempts of this run, grouped. */
  attempts: AttemptGroup[];
  /** Attempts of every run, grouped: prompt versions are compared over all of history. */
  allAttempts: AttemptGroup[];
  slowestJobs: JobAttempts[];
  /** Jobs this run submitted, adopted or saw end, by their last event type. */
  jobEvents: Array<{ type: string; count: number }>;
  /** This run's failures per cause, most frequent first. */
  causes: CauseCount[];
  /** Up to a few failed attempts of this run per cause, for the failure analysis. */
  failureExamples: Map<string, StoredEvent[]>;
}

/** The part of the store a report reads. */
export type ReportSource = Pick<
  EventLog,
  'attemptGroups' | 'causeCounts' | 'jobAttempts' | 'listEvents' | 'getRun' | 'listRuns'
>;

/** Gathers the report of run `runId` (the latest run when omitted); null when there is no such run. */
export async function gatherRunReport(
  store: ReportSource,
  workload: string,
  runId?: number,
): Promise<RunReport | null> {
  const run = runId === undefined ? ((await store.listRuns(1))[0] ?? null) : await store.getRun(runId);
  if (!run) return null;
  const [attempts, allAttempts, causes, slowestJobs, jobs] = await Promise.all([
    store.attemptGroups(run.id),
    store.attemptGroups(),
    store.causeCounts(run.id),
    store.jobAttempts(run.id, SLOWEST_JOBS),
    store.listEvents({ runId: run.id, kind: 'job' }),
  ]);
  const jobTypes = new Map<string, number>();
  for (const event of jobs) jobTypes.set(event.type, (jobTypes.get(event.type) ?? 0) + 1);
  const failureExamples = new Map<string, StoredEvent[]>();
  for (const { cause } of causes) {
    failureExamples.set(cause, await store.listEvents({ runId: run.id, cause, limit: EXAMPLES_PER_CAUSE }));
  }
  return {
    workload,
    run,
    attempts,
    allAttempts,
    slowestJobs,
    jobEvents: [...jobTypes].map(([type, count]) => ({ type, count })),
    causes,
    failureExamples,
  };
}
