import type { RunnerClock } from '../clock.js';
import {
  type BatchJobInfo,
  type CreateBatchInput,
  type ModelRequest,
  type RemoteFile,
} from '../gemini/index.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import type { BatchApi } from '../lanes/batch/batch-api.js';
import type { ConnectionWatch } from './connection-watch.js';

export interface RemoteApiOptions {
  clock: RunnerClock;
  policy: RetryPolicy;
  watch: ConnectionWatch;
  /** Uniform in [0, 1) for the backoff jitter; default Math.random. */
  random?: () => number;
  /** Told before each wait, e.g. to report "retrying in 2 s". */
  onRetry?: (info: { operation: string; attempt: number; delayMs: number; error: unknown }) => void;
}

/**
 * The batch API as the loop uses it: every call goes through `withRetry` (backoff with jitter, the
 * server's RetryInfo honoured) and reports to the ConnectionWatch whether the server answered.
 * `createBatch` is the exception: it is tried once, because repeating a create whose outcome is
 * unknown could create the job twice; `createOrAdopt` (create-or-adopt.ts) retries it safely.
 */
export class RemoteApi implements BatchApi {
  private signal: AbortSignal | undefined;

  constructor(
    private readonly api: BatchApi,
    private readonly options: RemoteApiOptions,
  ) {}

  /** Stops waiting between retries once `signal` aborts (the run was interrupted). */
  stopOn(signal: AbortSignal | undefined): void {
    this.signal = signal;
  }

  /** Throws ApiUnreachableError once the API has not answered for too long. */
  checkReachable(): void {
    this.options.watch.check();
  }

  uploadJsonl(path: string, displayName: string, name?: string): Promise<RemoteFile> {
    return this.retried('upload', () => this.api.uploadJsonl(path, displayName, name));
  }

  uploadFile(file: string | Blob, mimeType: string, displayName: string): Promise<RemoteFile> {
    return this.retried('upload', () => this.api.uploadFile(file, mimeType, displayName));
  }

  getFile(name: string): Promise<RemoteFile | null> {
    return this.retried('get file', () => this.api.getFile(name));
  }

  /**
   * `once`: one try, no retries, for the input-file sweep, which backs off between its own passes
   * (input-file-sweep.ts): retries here held the run's loop for their waits, at every pass.
   */
  deleteFile(name: string, options: { once?: boolean } = {}): Promise<void> {
    if (options.once) {
      this.options.watch.check();
      return this.watched(() => this.api.deleteFile(name));
    }
    return this.retried('delete file', () => this.api.deleteFile(name));
  }

  createBatch(input: CreateBatchInput): Promise<BatchJobInfo> {
    this.options.watch.check();
    return this.watched(() => this.api.createBatch(input));
  }

  getBatch(name: string): Promise<BatchJobInfo> {
    return this.retried('get', () => this.api.getBatch(name));
  }

  /** The whole listing, retried as one call (a page that fails restarts it). */
  async *listBatches(options?: { pageSize?: number }): AsyncIterable<BatchJobInfo> {
    const all = await this.retried('list', async () => {
      const jobs: BatchJobInfo[] = [];
      for await (const job of this.api.listBatches(options)) jobs.push(job);
      return jobs;
    });
    yield* all;
  }

  /** The whole file listing, retried as one call. */
  async *listFiles(options?: { pageSize?: number }): AsyncIterable<RemoteFile> {
    const all = await this.retried('list files', async () => {
      const files: RemoteFile[] = [];
      for await (const file of this.api.listFiles(options)) files.push(file);
      return files;
    });
    yield* all;
  }

  cancelBatch(name: string): Promise<void> {
    return this.retried('cancel', () => this.api.cancelBatch(name));
  }

  downloadFile(fileName: string, destPath: string): Promise<void> {
    return this.retried('download', () => this.api.downloadFile(fileName, destPath));
  }

  /**
   * `once`: one try, no retries, for a count that only improves a plan (the run's calibration): its
   * backoff would hold up the run, and a failure just leaves the local estimate in place.
   */
  countTokens(model: string, request: ModelRequest, options: { once?: boolean } = {}): Promise<number> {
    if (options.once) {
      this.options.watch.check();
      return this.watched(() => this.api.countTokens(model, request));
    }
    return this.retried('count tokens', () => this.api.countTokens(model, request));
  }

  private retried<T>(operation: string, call: () => Promise<T>): Promise<T> {
    const { clock, policy, random, onRetry } = this.options;
    return withRetry(
      () => {
        this.options.watch.check();
        return this.watched(call);
      },
      policy,
      {
        clock,
        ...(random ? { random } : {}),
        ...(this.signal ? { signal: this.signal } : {}),
        ...(onRetry ? { onRetry: (info) => onRetry({ operation, ...info }) } : {}),
      },
    );
  }

  private async watched<T>(call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.options.watch.answered();
      return result;
    } catch (error) {
      this.options.watch.failed(error);
      throw error;
    }
  }
}
