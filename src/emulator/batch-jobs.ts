import { copyFile, link, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { countRequestTokens } from './model/index.js';
import { checkBatchAdmission, quotaErrorBody } from './quotas.js';
import { readInlineRequests, readInputFile } from './batch-input.js';
import { processBatch, type JobSource, type ProcessedBatch, type ProcessingContext } from './batch-processing.js';
import type { EmulatedClock } from './clock.js';
import type { JobFault } from './fault-plan.js';
import { GoogleError, invalidArgument, notFound } from './google-error.js';
import type { EmulatorQuotas } from './options.js';
import { paginate, type Page } from './file-store.js';
import { randomBetween, randomId, seededRandom, type Random } from './seeded-random.js';

export type BatchState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

/** One batch job and where it is in its life. */
export interface BatchJob {
  sequence: number;
  id: string;
  name: string;
  model: string;
  displayName: string;
  source: JobSource;
  requestCount: number;
  inputTokens: number;
  createTime: number;
  updateTime: number;
  endTime: number | undefined;
  /** Emulated time the job leaves PENDING. */
  runningAt: number;
  /** Emulated time the job ends: processed, failed or expired. */
  dueAt: number;
  fate: JobFault;
  state: BatchState;
  result: ProcessedBatch | undefined;
  error: { code: number; message: string } | undefined;
  /** Set once processing starts, so it happens exactly once however many polls arrive. */
  processing: Promise<void> | undefined;
}

export interface BatchJobsSettings {
  clock: EmulatedClock;
  seed: number;
  turnaround: { min: number; max: number };
  jobExpiryMs: number;
  quotas: () => EmulatorQuotas;
  processing: ProcessingContext;
}

const ACTIVE: ReadonlySet<BatchState> = new Set(['PENDING', 'RUNNING']);

/**
 * The Batch API's jobs on the emulated clock: PENDING briefly, RUNNING, then at create + turnaround
 * processed (SUCCEEDED) or ended by a fault (FAILED / EXPIRED). States advance lazily on every call
 * and from the emulator's timer.
 */
export class BatchJobs {
  private readonly jobs = new Map<string, BatchJob>();
  private readonly turnaroundRandom: Random;
  private readonly idRandom: Random;
  private sequence = 0;

  constructor(private readonly settings: BatchJobsSettings) {
    this.turnaroundRandom = seededRandom(settings.seed, 'turnaround');
    this.idRandom = seededRandom(settings.seed, 'batch-ids');
  }

  /** Validates a `batchGenerateContent` body, checks admission quotas and enqueues the job. */
  async create(model: string, body: unknown): Promise<BatchJob> {
    const batch = isRecord(body) && isRecord(body.batch) ? body.batch : undefined;
    if (!batch || !isRecord(batch.inputConfig)) throw invalidArgument('Request must contain batch.inputConfig.');
    const displayName = typeof batch.displayName === 'string' ? batch.displayName : '';
    const input = batch.inputConfig;
    const id = this.newId();
    let source: JobSource;
    let requestCount = 0;
    let inputTokens = 0;
    if (typeof input.fileName === 'string') {
      const file = this.settings.processing.files.get(input.fileName);
      if (!file) throw notFound(input.fileName);
      // A private link (or copy) so the job keeps its input even if the file is deleted or expires.
      const path = join(this.settings.processing.workDir, `${id}.input`);
      await link(file.path, path).catch(() => copyFile(file.path, path));
      for await (const entry of readInputFile(path)) {
        requestCount += 1;
        if ('request' in entry) inputTokens += countRequestTokens(entry.request);
      }
      source = { kind: 'file', fileName: file.name, path };
    } else if (input.requests !== undefined) {
      const requests = readInlineRequests(input.requests);
      requestCount = requests.length;
      for (const item of requests) inputTokens += countRequestTokens(item.request);
      source = { kind: 'inline', requests };
    } else {
      throw invalidArgument('batch.inputConfig must have fileName or requests.');
    }
    try {
      this.admit(model, inputTokens);
    } catch (error) {
      if (source.kind === 'file') await rm(source.path, { force: true });
      throw error;
    }
    return this.enqueue({ id, model, displayName, source, requestCount, inputTokens });
  }

  /** The job with its state brought up to date; waits for processing that is under way. */
  async get(name: string): Promise<BatchJob> {
    const job = this.jobs.get(name);
    if (!job) throw notFound(name);
    this.advance(job);
    if (job.processing) await job.processing;
    return job;
  }

  /** Newest first. */
  list(pageSize: number, pageToken: string | undefined): Page<BatchJob> {
    this.advanceAll();
    return paginate([...this.jobs.values()].reverse(), (job) => job.sequence, pageSize, pageToken);
  }

  /** Cancels a job that has not finished; a finished job is left as it is. */
  async cancel(name: string): Promise<void> {
    const job = await this.get(name);
    if (!ACTIVE.has(job.state) || job.processing) return;
    this.finish(job, 'CANCELLED', this.settings.clock.now());
  }

  async delete(name: string): Promise<void> {
    const job = await this.get(name);
    this.jobs.delete(name);
    if (job.source.kind === 'file') await rm(job.source.path, { force: true });
  }

  /** Advances every job; started processing continues in the background. */
  advanceAll(): void {
    for (const job of this.jobs.values()) this.advance(job);
  }

  /** Resolves when all processing under way has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.jobs.values()].map((job) => job.processing));
  }

  /** The earliest emulated time at which some job changes state, if any. */
  nextChangeAt(): number | undefined {
    let next: number | undefined;
    for (const job of this.jobs.values()) {
      if (!ACTIVE.has(job.state) || job.processing) continue;
      const at = job.state === 'PENDING' ? job.runningAt : job.dueAt;
      next = next === undefined ? at : Math.min(next, at);
    }
    return next;
  }

  private admit(model: string, newJobTokens: number): void {
    this.advanceAll();
    let activeJobs = 0;
    let enqueuedTokensForModel = 0;
    for (const job of this.jobs.values()) {
      if (!ACTIVE.has(job.state)) continue;
      activeJobs += 1;
      if (job.model === model) enqueuedTokensForModel += job.inputTokens;
    }
    const quotas = this.settings.quotas();
    const refusal = checkBatchAdmission({ activeJobs, enqueuedTokensForModel, newJobTokens, limits: quotas });
    if (refusal) {
      const body = quotaErrorBody(refusal) as { error?: { message?: string; details?: unknown[] } };
      throw new GoogleError('RESOURCE_EXHAUSTED', body.error?.message ?? refusal.message, body.error?.details);
    }
  }

  private enqueue(init: Pick<BatchJob, 'id' | 'model' | 'displayName' | 'source' | 'requestCount' | 'inputTokens'>): BatchJob {
    const now = this.settings.clock.now();
    const { min, max } = this.settings.turnaround;
    const turnaround = min === max ? min : randomBetween(this.turnaroundRandom, min, max);
    let fate = this.settings.processing.faults.nextJobFault();
    let dueAt = now + turnaround;
    if (turnaround > this.settings.jobExpiryMs) {
      fate = 'job_expired';
      dueAt = now + this.settings.jobExpiryMs;
    }
    const job: BatchJob = {
      ...init,
      sequence: ++this.sequence,
      name: `batches/${init.id}`,
      createTime: now,
      updateTime: now,
      endTime: undefined,
      // Pending for a tenth of the turnaround (at most 1 min), like a short queue wait.
      runningAt: now + Math.min(turnaround / 10, 60_000),
      dueAt,
      fate,
      state: 'PENDING',
      result: undefined,
      error: undefined,
      processing: undefined,
    };
    this.jobs.set(job.name, job);
    return job;
  }

  private advance(job: BatchJob): void {
    if (!ACTIVE.has(job.state) || job.processing) return;
    const now = this.settings.clock.now();
    if (now >= job.dueAt) {
      if (job.fate === 'job_failed') {
        job.error = { code: 13, message: 'The batch job failed due to an internal error (emulated fault job_failed).' };
        this.finish(job, 'FAILED', job.dueAt);
      } else if (job.fate === 'job_expired') {
        job.error = { code: 4, message: 'The batch job expired before it could be completed.' };
        this.finish(job, 'EXPIRED', job.dueAt);
      } else {
        job.state = 'RUNNING';
        job.processing = this.process(job);
      }
    } else if (now >= job.runningAt && job.state === 'PENDING') {
      job.state = 'RUNNING';
      job.updateTime = job.runningAt;
    }
  }

  private async process(job: BatchJob): Promise<void> {
    try {
      job.result = await processBatch(job, job.source, job.dueAt, this.settings.processing);
      this.finish(job, 'SUCCEEDED', job.dueAt);
    } catch (error) {
      job.error = { code: 13, message: `The emulator failed to process the batch: ${error instanceof Error ? error.message : String(error)}` };
      this.finish(job, 'FAILED', job.dueAt);
    } finally {
      if (job.source.kind === 'file') await rm(job.source.path, { force: true });
    }
  }

  private finish(job: BatchJob, state: BatchState, at: number): void {
    job.state = state;
    job.updateTime = at;
    job.endTime = at;
  }

  private newId(): string {
    for (;;) {
      const id = randomId(this.idRandom, 16);
      if (!this.jobs.has(`batches/${id}`)) return id;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
