import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BatchJobInfo, BatchJobState, GeminiClient } from '../../gemini/index.js';
import { checkFolderMakeable, makeFolder } from '../../make-folder.js';
import { redact } from '../../secrets/redact.js';
import { writingTo } from '../../unwritable-path.js';
import { onJob } from './errors.js';
import { batchId, batchName, isBatchName } from './job-names.js';

/** What fetching one job's results came to. */
export type FetchOutcome =
  /** Still pending or running (or a state the API did not name): nothing written; fetch again later. */
  | { name: string; kind: 'not-ready'; state: BatchJobState }
  /** Ended FAILED, CANCELLED or EXPIRED: it has no results. `message`: the API's, redacted. */
  | { name: string; kind: 'ended'; state: BatchJobState; message?: string }
  /**
   * Its results written to `path`, one `{key, response}` or `{key, error}` line a request: from its
   * results file or its inline responses. `results` is undefined when a results file's job reports no count.
   */
  | { name: string; kind: 'written'; path: string; from: 'file' | 'inline'; results?: number; failed: number }
  /** Succeeded but reports no results (neither a file nor inline responses). */
  | { name: string; kind: 'no-results' };

/** What `fetchAllPending` found listed before fetching anything. */
export interface PendingResults {
  /** Succeeded jobs whose results are not in the folder yet: the ones it fetches. */
  jobs: string[];
  /** Listed succeeded jobs whose name is not `batches/` and a plain id: left alone, since it would name the file. */
  skipped: string[];
  /** How many jobs are still pending or running. */
  waiting: number;
}

/** Where results go, and who hears of each job as it is done (a job not found stops the rest). */
export interface FetchOptions {
  /** The folder results are written to, as `<out>/<job id>.jsonl`; made if missing. */
  out: string;
  onFetched?: (outcome: FetchOutcome) => void;
}

/** Fetches the named jobs' results into `options.out`, one after the other. */
export async function fetchResults(
  client: GeminiClient,
  jobs: readonly string[],
  options: FetchOptions,
): Promise<FetchOutcome[]> {
  const names = jobs.map(batchName);
  return fetchNamed(client, names, await resultsFolder(options.out), options);
}

/** Fetches every succeeded job whose results are not in `options.out` yet; `onListed` hears what it found first. */
export async function fetchPendingResults(
  client: GeminiClient,
  options: FetchOptions & { onListed?: (listing: PendingResults) => void },
): Promise<PendingResults & { fetched: FetchOutcome[] }> {
  const out = await resultsFolder(options.out);
  const listing: PendingResults = { jobs: [], skipped: [], waiting: 0 };
  for await (const job of client.listBatches()) {
    if (job.state === 'pending' || job.state === 'running') listing.waiting++;
    if (job.state !== 'succeeded') continue;
    // A name becomes a file name under out: one that is no plain batch id (`batches/../x`, from an
    // API at a base URL that is not Google's) would write elsewhere.
    if (!isBatchName(job.name)) listing.skipped.push(job.name);
    else if (!existsSync(resultPath(out, job.name))) listing.jobs.push(job.name);
  }
  options.onListed?.(listing);
  return { ...listing, fetched: await fetchNamed(client, listing.jobs, out, options) };
}

/**
 * Makes and probes the folder before any job is asked for: one that cannot be written is the
 * user's input (INPUT_PATH_UNWRITABLE), found before a download is paid for in time.
 */
async function resultsFolder(given: string): Promise<string> {
  const out = resolve(given);
  await writingTo(given, async () => {
    await makeFolder(out);
    await checkFolderMakeable(join(out, '.wavebatch-fetch-probe'));
  });
  return out;
}

async function fetchNamed(
  client: GeminiClient,
  names: readonly string[],
  out: string,
  options: FetchOptions,
): Promise<FetchOutcome[]> {
  const outcomes: FetchOutcome[] = [];
  for (const name of names) {
    const outcome = await onJob(name, () => fetchOne(client, name, out));
    outcomes.push(outcome);
    options.onFetched?.(outcome);
  }
  return outcomes;
}

function resultPath(out: string, name: string): string {
  return join(out, `${batchId(name)}.jsonl`);
}

async function fetchOne(client: GeminiClient, name: string, out: string): Promise<FetchOutcome> {
  const job = await client.getBatch(name);
  if (job.state === 'pending' || job.state === 'running' || job.state === 'unknown')
    return { name, kind: 'not-ready', state: job.state };
  if (job.state !== 'succeeded') {
    const message = job.error?.message ? redact(job.error.message) : undefined;
    return { name, kind: 'ended', state: job.state, ...(message === undefined ? {} : { message }) };
  }
  const path = resultPath(out, name);
  if (job.resultsFileName) {
    await client.downloadFile(job.resultsFileName, path);
    const results = job.stats?.requestCount;
    const failed = job.stats?.failedRequestCount ?? 0;
    return {
      name,
      kind: 'written',
      path,
      from: 'file',
      ...(results === undefined ? {} : { results }),
      failed,
    };
  }
  if (job.inlinedResponses) {
    await writeInlineResults(job, path);
    const failed = job.inlinedResponses.filter((item) => item.error !== undefined).length;
    return { name, kind: 'written', path, from: 'inline', results: job.inlinedResponses.length, failed };
  }
  return { name, kind: 'no-results' };
}

/** Inline results in the results-file shape, written atomically. */
async function writeInlineResults(job: BatchJobInfo, path: string): Promise<void> {
  const lines = (job.inlinedResponses ?? []).map((item) =>
    JSON.stringify({
      ...(item.key !== undefined ? { key: item.key } : {}),
      ...(item.error ? { error: item.error } : { response: item.response }),
    }),
  );
  const temp = `${path}.${randomBytes(4).toString('hex')}.part`;
  try {
    await writeFile(temp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
