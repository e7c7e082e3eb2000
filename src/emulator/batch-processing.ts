import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  answerRequest,
  countRequestTokens,
  thinkingRefusal,
  type Responder,
  type WireGenerateRequest,
} from './model/index.js';
import { billAnswer } from './billing.js';
import { inlineKey, readInputFile, type JobSource } from './batch-input.js';
import { GRPC_CODE, INTERNAL_ERROR_MESSAGE, rowStatus, type RowStatus } from './google-error.js';
import type { JobFault } from './fault-plan.js';
import type { FaultInjector } from './fault-injector.js';
import type { FileStore } from './file-store.js';
import { fileReferenceError, fileResolver } from './file-references.js';
import type { MemoryLedger } from './ledger.js';
import { functionCallingRefusal, inputTokenRefusal } from './request-checks.js';
import { seededRandom, shuffle } from './seeded-random.js';

/** What processing a job needs from the emulator. */
export interface ProcessingContext {
  files: FileStore;
  faults: FaultInjector;
  ledger: MemoryLedger;
  responder: () => Responder | undefined;
  seed: number;
  /** A private directory for temporary files. */
  workDir: string;
}

/** The finished output of a job and its counts. */
export interface ProcessedBatch {
  output:
    { responsesFile: string } | { inlinedResponses: { inlinedResponses: Array<Record<string, unknown>> } };
  succeeded: number;
  failed: number;
}

interface BatchIdentity {
  id: string;
  name: string;
  model: string;
}

/**
 * Answers every request of a job once, bills each response in the ledger at the emulated time `at`,
 * and returns the output in an order that differs from the input (shuffled by seed), as Google's does.
 * `fate` is the job's injected fault: `job_rows_failed` makes every row an unbilled INTERNAL error,
 * `job_no_metadata` leaves the `metadata` out of inline responses. Row faults (rowRates) leave a row
 * out, unanswered and unbilled, or write it twice, billed once.
 */
export async function processBatch(
  job: BatchIdentity,
  source: JobSource,
  at: number,
  context: ProcessingContext,
  fate: JobFault = 'none',
): Promise<ProcessedBatch> {
  const counts = { succeeded: 0, failed: 0 };
  /** The row's output as many times as it is written (0 when it is left out). */
  const answer = (
    key: string | null,
    request: WireGenerateRequest,
  ): Array<{ response: Record<string, unknown> } | { error: RowStatus }> => {
    const rowFault = context.faults.rowFault();
    if (rowFault === 'missing') return [];
    const result: { response: Record<string, unknown> } | { error: RowStatus } =
      fate === 'job_rows_failed'
        ? { error: { code: GRPC_CODE.INTERNAL, message: INTERNAL_ERROR_MESSAGE } }
        : answerOnce(job, key, request, at, context);
    counts['response' in result ? 'succeeded' : 'failed'] += 1;
    return rowFault === 'duplicated' ? [result, result] : [result];
  };
  const order = seededRandom(context.seed, `order:${job.name}`);

  if (source.kind === 'inline') {
    const items = source.requests.flatMap((item) => {
      const key = inlineKey(item);
      const metadata = item.metadata && fate !== 'job_no_metadata' ? { metadata: item.metadata } : {};
      return answer(key, item.request).map((result) => ({ ...result, ...metadata }));
    });
    return { output: { inlinedResponses: { inlinedResponses: shuffle(items, order) } }, ...counts };
  }

  // Answers go to a scratch file in input order; only their offsets stay in memory. The results
  // file is then written from the scratch file in shuffled order, line by line.
  const scratchPath = join(context.workDir, `${job.id}.answers`);
  const spans: Array<[number, number]> = [];
  async function* answerLines(path: string): AsyncGenerator<Buffer> {
    let offset = 0;
    for await (const entry of readInputFile(path)) {
      const results = 'invalid' in entry ? [countFailed(entry.invalid)] : answer(entry.key, entry.request);
      for (const result of results) {
        const line = Buffer.from(
          `${JSON.stringify({ ...(entry.key !== null ? { key: entry.key } : {}), ...entry.echo, ...result })}\n`,
          'utf8',
        );
        spans.push([offset, line.length]);
        offset += line.length;
        yield line;
      }
    }
  }
  try {
    await pipeline(Readable.from(answerLines(source.path)), createWriteStream(scratchPath));
    shuffle(spans, order);
    const file = await context.files.writeGenerated(
      `${job.name} results`,
      'application/jsonl',
      linesAt(scratchPath, spans),
      job.name.replace(/^batches\//, ''),
    );
    return { output: { responsesFile: file.name }, ...counts };
  } finally {
    await rm(scratchPath, { force: true });
  }

  function countFailed(error: RowStatus): { error: RowStatus } {
    counts.failed += 1;
    return { error };
  }
}

/** One request through the synthetic model (or the test's responder), with its fault; responses are billed. */
function answerOnce(
  job: BatchIdentity,
  key: string | null,
  request: WireGenerateRequest,
  at: number,
  context: ProcessingContext,
): { response: Record<string, unknown> } | { error: RowStatus } {
  // The file's state when the model takes the request up, at the job's end.
  const refusal = fileReferenceError(request, context.files, at);
  if (refusal !== undefined) return { error: rowStatus(refusal.body().error) };
  const budget = thinkingRefusal(job.model, request);
  if (budget !== undefined) return { error: { code: GRPC_CODE.INVALID_ARGUMENT, message: budget } };
  const unsupported = functionCallingRefusal(job.model, request);
  if (unsupported !== undefined) return { error: rowStatus(unsupported.body().error) };
  const resolveFile = fileResolver(context.files);
  // The job goes on without it: one row's error, unbilled, as a real-time call's 400.
  const tooLong = inputTokenRefusal(job.model, countRequestTokens(request, resolveFile));
  if (tooLong !== undefined) return { error: rowStatus(tooLong.body().error) };
  const fault = context.faults.recordFault(key);
  const answer = answerRequest(
    { model: job.model, request, key, seed: context.seed, resolveFile },
    fault,
    context.responder(),
  );
  if (answer.kind === 'error') return { error: rowStatus(answer.error) };
  billAnswer(context.ledger, {
    at,
    lane: 'batch',
    model: job.model,
    key,
    batchName: job.name,
    request,
    answer,
  });
  return { response: answer.response };
}

/** The byte ranges of a file, in the given order. */
async function* linesAt(path: string, spans: Array<[number, number]>): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (const [start, length] of spans) {
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, start);
      yield buffer;
    }
  } finally {
    await handle.close();
  }
}
