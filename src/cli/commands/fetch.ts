import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import type { BatchJobInfo, GeminiClient } from '../../gemini/index.js';
import { baseUrlOption, batchId, batchName, clientFor, OneoffInputError, printerFor, type OneoffDeps } from './oneoff-options.js';

interface FetchOptions {
  allPending?: boolean;
  out: string;
  baseUrl?: string;
}

/** `wavebatch fetch`: downloads the results of finished jobs to `<out>/<job id>.jsonl`. */
export function fetchCommand(deps: OneoffDeps = {}): Command {
  return new Command('fetch')
    .description('Download the results of finished batch jobs to <out>/<job id>.jsonl (inline results too, same shape)')
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
        '',
        'Examples:',
        '  wavebatch fetch batches/abc123 --out results',
        '  wavebatch fetch --all-pending -o results',
      ].join('\n'),
    )
    .action(async (jobs: string[], options: FetchOptions) => {
      if (jobs.length > 0 && options.allPending) throw new OneoffInputError('Give job names or --all-pending, not both.');
      if (jobs.length === 0 && !options.allPending) throw new OneoffInputError('Name the jobs to fetch, or pass --all-pending.');
      const names = jobs.map(batchName);
      const client = clientFor(options, deps);
      const print = printerFor(deps);
      const out = resolve(options.out);
      await mkdir(out, { recursive: true });
      if (options.allPending) {
        let waiting = 0;
        for await (const job of client.listBatches()) {
          if (job.state === 'pending' || job.state === 'running') waiting++;
          if (job.state === 'succeeded' && !existsSync(resultPath(out, job.name))) names.push(job.name);
        }
        if (waiting > 0) print(`${waiting} jobs still pending or running; fetch again later\n`);
        if (names.length === 0) print('nothing new to fetch\n');
      }
      for (const name of names) print(await fetchOne(client, name, out));
    });
}

function resultPath(out: string, name: string): string {
  return join(out, `${batchId(name)}.jsonl`);
}

async function fetchOne(client: GeminiClient, name: string, out: string): Promise<string> {
  const job = await client.getBatch(name);
  if (job.state === 'pending' || job.state === 'running' || job.state === 'unknown') {
    return `${name}: still ${job.state}; fetch again when it has succeeded\n`;
  }
  if (job.state !== 'succeeded') {
    return `${name}: ended ${job.state.toUpperCase()}${job.error?.message ? ` (${job.error.message})` : ''}; no results to fetch\n`;
  }
  const path = resultPath(out, name);
  if (job.resultsFileName) {
    await client.downloadFile(job.resultsFileName, path);
    return `${name}: results -> ${path}\n`;
  }
  if (job.inlinedResponses) {
    await writeInlineResults(job, path);
    return `${name}: ${job.inlinedResponses.length} inline results -> ${path}\n`;
  }
  return `${name}: succeeded but reports no results (neither a file nor inline responses)\n`;
}

/** Inline results in the results-file shape, written atomically. */
async function writeInlineResults(job: BatchJobInfo, path: string): Promise<void> {
  const lines = (job.inlinedResponses ?? []).map((item) =>
    JSON.stringify({ ...(item.key !== undefined ? { key: item.key } : {}), ...(item.error ? { error: item.error } : { response: item.response }) }),
  );
  const temp = `${path}.${randomBytes(4).toString('hex')}.part`;
  try {
    await writeFile(temp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
    await rename(temp, path);
  } finally {
    await rm(temp, { force: true });
  }
}
