import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { BatchJobInfo, GeminiClient } from '../../gemini/index.js';
import {
  baseUrlOption,
  batchId,
  batchName,
  clientFor,
  isBatchName,
  OneoffInputError,
  onJob,
  printerFor,
  type OneoffDeps,
} from './oneoff-options.js';
import { WavebatchError } from '../../errors.js';
import { redact } from '../../secrets/redact.js';
import { checkFolderMakeable, makeFolder } from '../../make-folder.js';
import { writingTo } from '../../unwritable-path.js';
import { printable } from '../../printable.js';
import { counted } from '../../quantities.js';

/** Raised after fetching when some named jobs ended FAILED, CANCELLED or EXPIRED: they have no results (exit code 1). */
export class OneoffJobEndedError extends WavebatchError {
  readonly code = 'JOB_ENDED_WITHOUT_RESULTS';
  constructor(readonly endings: string[]) {
    super(
      `${endings.length === 1 ? 'A job' : `${endings.length} jobs`} ended without results:\n` +
        endings.map((ending) => `  ${ending}\n`).join('') +
        'Their requests never ran to completion; resubmit them with `wavebatch submit`.',
    );
    this.name = 'OneoffJobEndedError';
  }
}

interface FetchOptions {
  allPending?: boolean;
  out: string;
  baseUrl?: string;
}

/** `wavebatch fetch`: downloads the results of finished jobs to `<out>/<job id>.jsonl`. */
export function fetchCommand(deps: OneoffDeps = {}): Command {
  return new Command('fetch')
    .description(
      'Download the results of finished batch jobs to <out>/<job id>.jsonl (inline results too, same shape)',
    )
    .argument('[job...]', 'job names (batches/... or just the ids)')
    .option('--all-pending', 'every succeeded job whose results file is not in --out yet')
    .option('-o, --out <dir>', 'folder for the results', '.')
    .addOption(baseUrlOption())
    .addHelpText(
      'after',
      [
        '',
        'Each line is {"key": ..., "response": GenerateContentResponse} or {"key": ..., "error": Status},',
        'in no particular order; match lines to requests by key.',
        'A job still pending or running is reported as not ready (exit code 0); a named job that ended',
        'FAILED, CANCELLED or EXPIRED has no results: it is reported last, with exit code 1.',
        '',
        'Examples:',
        '  wavebatch fetch batches/abc123 --out results',
        '  wavebatch fetch --all-pending -o results',
      ].join('\n'),
    )
    .action(async (jobs: string[], options: FetchOptions) => {
      if (jobs.length > 0 && options.allPending)
        throw new OneoffInputError('Give job names or --all-pending, not both.');
      if (jobs.length === 0 && !options.allPending)
        throw new OneoffInputError('Name the jobs to fetch, or pass --all-pending.');
      const names = jobs.map(batchName);
      const client = clientFor(options, deps);
      const print = printerFor(deps);
      const out = resolve(options.out);
      // Made and probed before any job is asked for: a --out that cannot be written is the user's
      // input (exit 2), found before a download is paid for in time.
      await writingTo(options.out, async () => {
        await makeFolder(out);
        await checkFolderMakeable(join(out, '.wavebatch-fetch-probe'));
      });
      if (options.allPending) {
        let waiting = 0;
        const strange: string[] = [];
        for await (const job of client.listBatches()) {
          if (job.state === 'pending' || job.state === 'running') waiting++;
          if (job.state !== 'succeeded') continue;
          // A name becomes a file name under --out: one that is no plain batch id (`batches/../x`,
          // from an API at a base URL that is not Google's) would write elsewhere.
          if (!isBatchName(job.name)) strange.push(job.name);
          else if (!existsSync(resultPath(out, job.name))) names.push(job.name);
        }
        for (const name of strange)
          print(
            `skipped ${JSON.stringify(printable(name))}: not a batch job name (batches/ and letters, digits, - or _)\n`,
          );
        if (waiting > 0)
          print(
            `${waiting} ${waiting === 1 ? 'job is' : 'jobs are'} still pending or running, not ready; fetch again later\n`,
          );
        if (names.length === 0) print('nothing new to fetch\n');
      }
      const endings: string[] = [];
      for (const name of names) {
        const outcome = await onJob(name, () => fetchOne(client, name, out));
        if ('ended' in outcome) endings.push(outcome.ended);
        else print(outcome.report);
      }
      // Reported last, so the results of the other jobs are on disk whatever happens.
      if (endings.length > 0) throw new OneoffJobEndedError(endings);
    });
}

function resultPath(out: string, name: string): string {
  return join(out, `${batchId(name)}.jsonl`);
}

/** What happened to one job: a line for the user, or why it has no results. */
type FetchOutcome = { report: string } | { ended: string };

async function fetchOne(client: GeminiClient, name: string, out: string): Promise<FetchOutcome> {
  const job = await client.getBatch(name);
  if (job.state === 'pending' || job.state === 'running' || job.state === 'unknown') {
    return { report: `${name}: not ready, still ${job.state}; fetch again when it has succeeded\n` };
  }
  if (job.state !== 'succeeded') {
    return {
      ended: `${name}: ${job.state.toUpperCase()}${job.error?.message ? ` (${redact(job.error.message)})` : ''}`,
    };
  }
  const path = resultPath(out, name);
  if (job.resultsFileName) {
    await client.downloadFile(job.resultsFileName, path);
    const total = job.stats?.requestCount;
    return {
      report: `${name}: ${total === undefined ? 'results' : countText(total, job.stats?.failedRequestCount ?? 0)} -> ${path}\n`,
    };
  }
  if (job.inlinedResponses) {
    await writeInlineResults(job, path);
    const failed = job.inlinedResponses.filter((item) => item.error !== undefined).length;
    return { report: `${name}: ${countText(job.inlinedResponses.length, failed, 'inline ')} -> ${path}\n` };
  }
  return { report: `${name}: succeeded but reports no results (neither a file nor inline responses)\n` };
}

/** "3 results (1 failed)". */
function countText(total: number, failed: number, kind = ''): string {
  return `${counted(total, `${kind}result`)}${failed > 0 ? ` (${failed} failed)` : ''}`;
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
