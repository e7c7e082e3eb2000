import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readJobInput, type JobSource } from './batch-input.js';
import { processBatch, type ProcessedBatch, type ProcessingContext } from './batch-processing.js';
import { checkBatchAdmission } from './batch-admission.js';
import type { EmulatedClock } from './clock.js';
import { fileResolver } from './file-references.js';
import type { JobFault } from './fault-plan.js';
import { invalidArgument, notFound, unknownFields } from './google-error.js';
import { unknownBatchFields } from './request-fields.js';
import type { EmulatorQuotas } from './options.js';
import { modelQuotas } from './model-quotas.js';
import { paginate, type Page } from './paging.js';
import { quotaGoogleError, type RetryDelayPrecision } from './quotas.js';
import { randomId, seededRandom, type Random } from './seeded-random.js';
import { isJsonObject } from './json-object.js';
import { fieldOf } from './model/wire-request.js';
import { drawTurnaround, type TurnaroundRange } from './turnaround.js';
import { describeError } from '../errors.js';

/** A job's state, as Google's BATCH_STATE_* without the prefix. */
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
  /** How the job ends at dueAt: processed ('none') or by an injected fault; drawn at creation. */
  fate: JobFault;
  state: BatchState;
  result: ProcessedBatch | undefined;
  error: { code: number; message: string } | undefined;
  /** Set once processing starts, so it happens exactly once however many polls arrive. */
  processing: Promise<void> | undefined;
}

/** What BatchJobs needs from the emulator. */
export interface BatchJobsSettings {
  clock: EmulatedClock;
  timeScale: number;
  seed: number;
  /** Draws job ids; unique per emulator instance (see server.ts). */
  idRandom: Random;
  turnaround: TurnaroundRange;
  jobExpiryMs: number;
  quotas: () => EmulatorQuotas;
  /** How a refusal's RetryInfo states its delay. */
  retryDelayPrecision: RetryDelayPrecision;
  processing: ProcessingContext;
}

const ACTIVE: ReadonlySet<BatchState> = new Set(['PENDING', 'RUNNING']);
/** Real ms a read waits for a job being processed before answering RUNNING. */
const PROCESSING_PATIENCE_MS = 1000;

/**
 * The Batch API's jobs on the emulated clock: PENDING briefly, RUNNING, then at create + turnaround
 * processed (SUCCEEDED) or ended by a fault (FAILED / EXPIRED). States advance lazily on every call
 * and from the emulator's timer.
 */
export class BatchJobs {
  private readonly jobs = new Map<string, BatchJob>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly turnaroundRandom: Random;
  private sequence = 0;

  constructor(private readonly settings: BatchJobsSettings) {
    this.turnaroundRandom = seededRandom(settings.seed, 'turnaround');
  }

  /** Validates a `batchGenerateContent` body, checks admission quotas and enqueues the job. */
  async create(model: string, body: unknown): Promise<BatchJob> {
    // The body is parsed whole before anything else: a field Google does not know refuses it.
    const unknown = isJsonObject(body) ? unknownBatchFields(body) : [];
    if (unknown.length > 0) throw unknownFields(unknown);
    const batch = isJsonObject(body) && isJsonObject(body.batch) ? body.batch : undefined;
    // Proto JSON: each field in camelCase or in its proto (snake_case) name, as REST callers write them.
    const inputConfig = batch && fieldOf(batch, 'inputConfig');
    if (!isJsonObject(inputConfig)) throw invalidArgument('Request must contain batch.inputConfig.');
    const named = fieldOf(batch ?? {}, 'displayName');
    const displayName = typeof named === 'string' ? named : '';
    const id = this.newId();
    const { files, workDir } = this.settings.processing;
    // Admission counts tokens as processing will bill them: an uploaded PDF by its pages, not as one image.
    const input = await readJobInput(inputConfig, files, join(workDir, `${id}.input`), fileResolver(files));
    try {
      this.admit(model, input.inputTokens);
    } catch (error) {
      if (input.source.kind === 'file') await rm(input.source.path, { force: true });
      throw error;
    }
    return this.enqueue({ id, model, displayName, ...input });
  }

  /**
   * The job with its state brought up to date. Processing under way is awaited for a moment, so a
   * small job reads SUCCEEDED as soon as it is due; a huge one reads RUNNING until it is written.
   */
  async get(name: string): Promise<BatchJob> {
    const job = this.jobs.get(name);
    if (!job) throw notFound(name);
    this.advance(job);
    if (job.processing && job.state === 'RUNNING') {
      let timer: NodeJS.Timeout | undefined;
      const patience = new Promise<void>((resolve) => (timer = setTimeout(resolve, PROCESSING_PATIENCE_MS)));
      await Promise.race([job.processing, patience]);
      clearTimeout(timer);
    }
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

  /** Forgets the job and its private copy of the input file. */
  async delete(name: string): Promise<void> {
    const job = await this.get(name);
    this.jobs.delete(name);
    if (job.source.kind === 'file') await rm(job.source.path, { force: true });
  }

  /** Advances every job; started processing continues in the background. */
  advanceAll(): void {
    for (const job of this.jobs.values()) this.advance(job);
  }

  /** Resolves when all processing under way (of deleted jobs too) has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Throws Google's 429 when the job would exceed the concurrent-job or enqueued-token quota. */
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
    const refusal = checkBatchAdmission({
      activeJobs,
      enqueuedTokensForModel,
      newJobTokens,
      limits: {
        maxConcurrentBatchJobs: quotas.maxConcurrentBatchJobs,
        maxEnqueuedTokensPerModel: modelQuotas(quotas, model).maxEnqueuedTokensPerModel,
      },
      model,
    });
    // RetryInfo is read by clients living in real time: an emulated minute is 1/timeScale as long.
    if (refusal)
      throw quotaGoogleError(
        refusal,
        refusal.retryDelayMs / this.settings.timeScale,
        this.settings.retryDelayPrecision,
      );
  }

  private enqueue(
    init: Pick<BatchJob, 'id' | 'model' | 'displayName' | 'source' | 'requestCount' | 'inputTokens'>,
  ): BatchJob {
    const now = this.settings.clock.now();
    const turnaround = drawTurnaround(this.turnaroundRandom, this.settings.turnaround);
    let fate = this.settings.processing.faults.nextJobFault();
    let dueAt = now + turnaround;
    // A stuck job never leaves the queue: it stays PENDING until it expires.
    const stuck = fate === 'job_stuck';
    if (turnaround > this.settings.jobExpiryMs || stuck) {
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
      runningAt: stuck ? dueAt : now + Math.min(turnaround / 10, 60_000),
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
        job.error = {
          code: 13,
          message:
            this.settings.processing.faults.jobFailureMessage() ??
            'The batch job failed due to an internal error (emulated fault job_failed).',
        };
        this.finish(job, 'FAILED', job.dueAt);
      } else if (job.fate === 'job_expired') {
        job.error = { code: 4, message: 'The batch job expired before it could be completed.' };
        this.finish(job, 'EXPIRED', job.dueAt);
      } else {
        job.state = 'RUNNING';
        const processing = this.process(job);
        job.processing = processing;
        this.inFlight.add(processing);
        void processing.finally(() => this.inFlight.delete(processing));
      }
    } else if (now >= job.runningAt && job.state === 'PENDING') {
      job.state = 'RUNNING';
      job.updateTime = job.runningAt;
    }
  }

  private async process(job: BatchJob): Promise<void> {
    try {
      job.result = await processBatch(job, job.source, job.dueAt, this.settings.processing, job.fate);
      this.finish(job, 'SUCCEEDED', job.dueAt);
    } catch (error) {
      job.error = {
        code: 13,
        message: `The emulator failed to process the batch: ${describeError(error)}`,
      };
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
      // Google's batch ids are 36 lowercase letters and digits.
      const id = randomId(this.settings.idRandom, 36);
      if (!this.jobs.has(`batches/${id}`)) return id;
    }
  }
}
