/** The numbers the batch runner works within, taken from the workload config. */
export interface RunnerSettings {
  /** Workload name; prefixes job display names. */
  workload: string;
  model: string;
  /** Scratch space for job input and result files. */
  dataDir: string;
  maxRetries: number;
  maxConcurrentJobs: number;
  maxRequestsPerJob: number;
  maxJobBytes: number;
  inlineMaxBytes: number;
  enqueuedTokenBudget: number;
  pollIntervalMs: number;
  prompt: { name: string; version: string };
}
