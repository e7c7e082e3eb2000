import { Command } from 'commander';
import type { FetchOutcome, PendingResults } from '../../service/index.js';
import { batchName, OneoffInputError } from '../../service/batch-jobs/index.js';
import { baseUrlOption, printerFor, serviceFor, type OneoffDeps } from './oneoff-options.js';
import { WavebatchError } from '../../errors.js';
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
      // Parsed before the client is made: a malformed name is the user's input, whatever the key.
      const names = jobs.map(batchName);
      const service = serviceFor(options, deps);
      const print = printerFor(deps);
      const endings: string[] = [];
      const onFetched = (outcome: FetchOutcome) => {
        if (outcome.kind === 'ended') endings.push(endingOf(outcome));
        else print(reportOf(outcome));
      };
      if (options.allPending)
        await service.fetchAllPending({
          out: options.out,
          onFetched,
          onListed: (found) => {
            const listing = listingOf(found);
            if (listing !== '') print(listing);
          },
        });
      else await service.fetch(names, { out: options.out, onFetched });
      // Reported last, so the results of the other jobs are on disk whatever happens.
      if (endings.length > 0) throw new OneoffJobEndedError(endings);
    });
}

/** What --all-pending found before fetching: skipped names, jobs not ready, or nothing to fetch. */
function listingOf(found: PendingResults): string {
  const lines = found.skipped.map(
    (name) =>
      `skipped ${JSON.stringify(printable(name))}: not a batch job name (batches/ and letters, digits, - or _)\n`,
  );
  const { waiting } = found;
  if (waiting > 0)
    lines.push(
      `${waiting} ${waiting === 1 ? 'job is' : 'jobs are'} still pending or running, not ready; fetch again later\n`,
    );
  if (found.jobs.length === 0) lines.push('nothing new to fetch\n');
  return lines.join('');
}

/** The line for a job that ended without results, as the error lists it. */
function endingOf(outcome: Extract<FetchOutcome, { kind: 'ended' }>): string {
  return `${outcome.name}: ${outcome.state.toUpperCase()}${outcome.message ? ` (${outcome.message})` : ''}`;
}

/** The line for a job fetched, not ready, or without results. */
function reportOf(outcome: Exclude<FetchOutcome, { kind: 'ended' }>): string {
  switch (outcome.kind) {
    case 'not-ready':
      return `${outcome.name}: not ready, still ${outcome.state}; fetch again when it has succeeded\n`;
    case 'no-results':
      return `${outcome.name}: succeeded but reports no results (neither a file nor inline responses)\n`;
    case 'written': {
      const kind = outcome.from === 'inline' ? 'inline ' : '';
      const what =
        outcome.results === undefined ? 'results' : countText(outcome.results, outcome.failed, kind);
      return `${outcome.name}: ${what} -> ${outcome.path}\n`;
    }
    default:
      return outcome satisfies never;
  }
}

/** "3 results (1 failed)". */
function countText(total: number, failed: number, kind = ''): string {
  return `${counted(total, `${kind}result`)}${failed > 0 ? ` (${failed} failed)` : ''}`;
}
