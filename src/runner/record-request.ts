import type { CommittedOutput, OutputSink } from '../outputs/index.js';
import {
  buildModelRequest,
  estimateTokens,
  estimateTokenShares,
  GeminiApiError,
  MediaInputError,
  toBatchFileLine,
  type BuildModelRequestInput,
  type MediaUploads,
  type ModelRequest,
} from '../gemini/index.js';
import { MediaUploadError } from '../media/index.js';
import { assertPromptFitsGrouping, type PromptTemplate, type PromptVariables } from '../prompts/index.js';
import { groupResponseSchema, itemParts, type GroupItem } from '../results/index.js';
import type { StoredRecord, WorkloadStore } from '../store/store.js';
import { jsonDigest, type TextArchive } from '../telemetry/text-archive.js';
import type { RecordContentHasher } from '../workload/content-hash.js';
import type { MediaInput } from '../workload/record.js';
import { isBlank } from '../blank-text.js';
import { describeError, WavebatchError } from '../errors.js';
import type { RunnerEventListener } from './events.js';

/** A record turned into the exact request the model will see. */
export interface RecordRequest {
  recordId: string;
  request: ModelRequest;
  promptHash: string;
  /** sha256 of the context the prompt received; null for a chain's first record. */
  contextDigest: string | null;
  /** Content hash of the record (variables and media bytes), recorded with its output; null when not hashed. */
  sourceHash: string | null;
  estimatedTokens: number;
  /** The JSONL line for an uploaded input file; its length sizes the job. */
  line: string;
  bytes: number;
}

/** One record's part in a grouped request: what its output and attempt are recorded with. */
export interface GroupMember {
  recordId: string;
  contextDigest: string | null;
  sourceHash: string | null;
}

/** Several records rendered into one request (`execution.records_per_request`), answered as one object keyed by record id. */
export interface GroupRequest {
  /** The batch line's key (see request-groups.ts); the record id for a group of one built by `build`. */
  key: string;
  members: GroupMember[];
  request: ModelRequest;
  promptHash: string;
  estimatedTokens: number;
  line: string;
  bytes: number;
}

/** Raised when a record cannot become a request (missing context, a template error, a bad media file). */
export class RecordRequestError extends WavebatchError {
  readonly code = 'RECORD_REQUEST';
  /** The failure's cause as filed for the record: `too_large` when its input is over a limit, else `input_error`. */
  readonly failureCause: 'input_error' | 'too_large';
  constructor(
    readonly recordId: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.failureCause =
      options?.cause instanceof MediaInputError && options.cause.code === 'INPUT_MEDIA_TOO_LARGE'
        ? 'too_large'
        : 'input_error';
  }
}

/**
 * Raised when a record's predecessor output (its context) is missing although the predecessor is
 * done: the file was deleted or lost. Not the record's fault: the predecessor must be redone first.
 */
export class MissingContextError extends RecordRequestError {
  constructor(
    recordId: string,
    readonly predecessorId: string,
  ) {
    super(
      recordId,
      `The output of ${predecessorId}, which ${recordId} needs as context, is missing; ` +
        `${predecessorId} is generated again first.`,
    );
  }
}

/**
 * A ready record's predecessor output is gone (deleted by hand, or lost): the predecessor goes back
 * to the queue to be regenerated, and the record waits for it. Neither counts a failed attempt.
 * Every lane that builds requests does this, so it is said once.
 */
export async function regenerateContext(
  deps: { store: Pick<WorkloadStore, 'reopenRecord'>; emit: RunnerEventListener },
  error: MissingContextError,
): Promise<void> {
  const reopened = await deps.store.reopenRecord(error.predecessorId);
  deps.emit({
    type: 'warning',
    message: reopened
      ? `The output of ${error.predecessorId} is missing; it is generated again and ${error.recordId} waits for it.`
      : `The output of ${error.predecessorId}, needed by ${error.recordId}, is missing; ${error.recordId} waits.`,
  });
}

export interface RecordRequestBuilderOptions {
  prompt: PromptTemplate;
  /**
   * Where the predecessors' outputs are read from (a JSONL sink by the location the store keeps);
   * with `readOutputs`, a round's predecessors are read together (see `prefetchContexts`).
   */
  outputs: Pick<OutputSink, 'read'> & Partial<Pick<OutputSink, 'readOutputs'>>;
  /** Picks the part of the predecessor's output that the prompt receives as `context`. */
  extractContext: (predecessorOutput: unknown) => unknown;
  generationConfig: Record<string, unknown>;
  responseJsonSchema: unknown;
  /** Scales the local token estimate by what countTokens / usage reported. */
  tokenScale: () => number;
  /** Uploads large media and references them by URI; without it all media are inlined. */
  uploads?: MediaUploads;
  /** Keeps each rendered prompt once by hash for the inference log. */
  archive?: TextArchive;
  /** The folder media files must resolve inside when read (mediaRootOf); none: not confined. */
  mediaRoot?: string;
  /** Hashes each record's content, so its output says what input it was made from. */
  contentHasher?: RecordContentHasher;
  /**
   * Records rendered into one request (default 1). Above 1 every request is a group, a record
   * alone included, so a record gets the same prompt and answer shape on every lane.
   */
  recordsPerRequest?: number;
}

/**
 * Predecessor contexts kept during one submission round. A round builds each ready request twice
 * (to size it, then to write it), so this halves the output reads; the bound keeps memory flat when a
 * round is large (the first contexts are kept, which are the ones the first jobs are written from).
 */
export const ROUND_CONTEXT_CACHE_LIMIT = 1024;

/**
 * Bytes of predecessor lines `prefetchContexts` reads ahead in one round (their contexts are then
 * kept for the round beyond ROUND_CONTEXT_CACHE_LIMIT); the rest are read one by one as built.
 */
export const ROUND_PREFETCH_BYTES = 16 * 1024 * 1024;

/**
 * Built requests kept during one submission round, so writing a job reuses what sizing built
 * instead of rendering and serialising every request a second time. Bounded in bytes, and a request
 * with large inline media is never kept (it is rebuilt), so a round never holds a job's worth of
 * images.
 */
export const ROUND_REQUEST_CACHE_BYTES = 64 * 1024 * 1024;
const ROUND_REQUEST_MAX_BYTES = 256 * 1024;

/** Records over which `meanRecordBytes` averages (a running mean that follows the latest few thousand). */
const MEAN_WINDOW_RECORDS = 4096;

/**
 * Renders a record's prompt with its predecessor's output as context. Deterministic: the same record
 * and predecessor output always give the same request, so a job can be rebuilt after a crash (an
 * uploaded media file keeps its URI while its remote copy lives).
 */
export class RecordRequestBuilder {
  /** Extracted contexts by predecessor id; only set during a round, when no output can change. */
  private roundContexts: Map<string, unknown> | null = null;
  /** Requests built this round by record id, and the bytes they hold (line and request, about twice the line). */
  private roundRequests: Map<string, RecordRequest> | null = null;
  private roundRequestBytes = 0;
  /** Running mean of a request line's bytes per record built (see `meanRecordBytes`). */
  private meanBytes = 0;
  private recordsBuilt = 0;

  /** The per-record answer schema and its hoisted definitions, when requests are grouped. */
  private readonly groupItem: GroupItem | null;

  constructor(private readonly options: RecordRequestBuilderOptions) {
    const size = options.recordsPerRequest ?? 1;
    if (size > 1) assertPromptFitsGrouping(options.prompt, size);
    this.groupItem = size > 1 ? itemParts(options.responseJsonSchema) : null;
  }

  /**
   * Bytes of request line per record, averaged over the latest few thousand built (a grouped
   * request's bytes shared by its records); 0 until one is built. A round sizes its chunks by it
   * (`roundChunkRecords`): what a chunk holds in memory grows with its records' texts.
   */
  get meanRecordBytes(): number {
    return this.meanBytes;
  }

  /** Records per request: 1 when requests are not grouped. */
  get recordsPerRequest(): number {
    return this.options.recordsPerRequest ?? 1;
  }

  /**
   * Starts a submission round: until `endRound`, each predecessor's output is read once. Call it
   * only while no output can be rewritten (the runner applies results between rounds, never in one).
   */
  beginRound(): void {
    this.roundContexts = new Map();
    this.roundRequests = new Map();
    this.roundRequestBytes = 0;
  }

  /**
   * Reads the contexts of `records` (those whose predecessor's line the store located) ahead, in
   * the order the outputs read best: a round's predecessors were written by the previous round, so
   * their lines lie together and one read takes many (a line read alone was a third of building a
   * request). Only within a round; up to ROUND_PREFETCH_BYTES of lines. A line that cannot be read
   * stops the prefetch: building that record reads it again and reports it as it always did.
   */
  async prefetchContexts(records: readonly StoredRecord[]): Promise<void> {
    const cache = this.roundContexts;
    const readOutputs = this.options.outputs.readOutputs?.bind(this.options.outputs);
    if (!cache || !readOutputs) return;
    const wanted = new Map<string, CommittedOutput>();
    let bytes = 0;
    for (const { predecessorId, predecessorOutput } of records) {
      const location = predecessorOutput ?? null;
      if (predecessorId === null || location === null || cache.has(predecessorId)) continue;
      if (bytes + location.length > ROUND_PREFETCH_BYTES) break;
      bytes += location.length;
      wanted.set(predecessorId, { id: predecessorId, location });
    }
    if (wanted.size < 2) return;
    try {
      // Outputs alone: the context is taken from the output, and a document's metadata is most of its line.
      for await (const { id, output } of readOutputs([...wanted.values()])) {
        if (cache !== this.roundContexts) return;
        cache.set(id, this.options.extractContext(output));
      }
    } catch {
      // Left to the build of the record that needs it, which names it (ShardCorruptError, missing context).
    }
  }

  /** Ends the round: drops the kept contexts and requests, so later builds read the outputs again. */
  endRound(): void {
    this.roundContexts = null;
    this.roundRequests = null;
    this.roundRequestBytes = 0;
  }

  /** Saves the prompts rendered so far to the inference log (before jobs refer to them), and the file digests learnt. */
  async flushPrompts(): Promise<void> {
    await this.options.archive?.flush();
    await this.options.contentHasher?.flush();
  }

  /**
   * The record's request; when requests are grouped, a group of one keyed by the record's id (what
   * a synchronous lane sends, and what a retried record of a batch job is sent as).
   */
  async build(record: StoredRecord): Promise<RecordRequest> {
    const kept = this.roundRequests;
    const cached = kept?.get(record.id);
    if (cached) return cached;
    const built = await this.buildRequest(record);
    const bytes = 2 * built.bytes;
    // Only the live round's map is filled (the round may have ended while this one was built).
    if (
      kept &&
      kept === this.roundRequests &&
      bytes <= ROUND_REQUEST_MAX_BYTES &&
      this.roundRequestBytes + bytes <= ROUND_REQUEST_CACHE_BYTES
    ) {
      kept.set(record.id, built);
      this.roundRequestBytes += bytes;
    }
    return built;
  }

  /**
   * The API found no file at a URI `built` names (Google's 403 "… or it may not exist"): the
   * uploads stop trusting its files and this round forgets the request, so building the record
   * again uploads them anew instead of sending the same missing URI.
   */
  forgetUploadedFiles(built: RecordRequest): void {
    if (this.roundRequests?.delete(built.recordId)) this.roundRequestBytes -= 2 * built.bytes;
    const forget = this.options.uploads?.forgetFile;
    if (!forget) return;
    for (const content of built.request.contents)
      for (const part of content.parts ?? []) if (part.fileData?.fileUri) forget(part.fileData.fileUri);
  }

  private async buildRequest(record: StoredRecord): Promise<RecordRequest> {
    if (this.groupItem) {
      const group = await this.buildGroup([record], record.id);
      const member = group.members[0] as GroupMember;
      return {
        recordId: record.id,
        request: group.request,
        promptHash: group.promptHash,
        contextDigest: member.contextDigest,
        sourceHash: member.sourceHash,
        estimatedTokens: group.estimatedTokens,
        line: group.line,
        bytes: group.bytes,
      };
    }
    const context = await this.contextFor(record);
    const composed = await this.compose(
      { key: record.id, blamed: record.id, what: record.id, owner: record.id },
      { record: recordFields(record), context },
      { media: this.mediaOf(record), responseJsonSchema: this.options.responseJsonSchema },
    );
    this.noteBuilt(composed.bytes, 1);
    return {
      recordId: record.id,
      ...composed,
      contextDigest: context === null ? null : jsonDigest(context),
      sourceHash: await this.sourceHashOf(record),
    };
  }

  /**
   * Renders `records` into one request through the prompt's `records` (each record's fields, id,
   * chain, position and own context), asking for an object keyed by record id. A failure names the
   * group's first record; the caller builds the records alone to find the one at fault.
   */
  async buildGroup(records: readonly StoredRecord[], key: string): Promise<GroupRequest> {
    const first = records[0];
    if (!first || !this.groupItem) throw new Error('buildGroup needs records and records_per_request > 1');
    const contexts: unknown[] = [];
    for (const record of records) contexts.push(await this.contextFor(record));
    const ids = records.map((record) => record.id);
    const composed = await this.compose(
      {
        key,
        blamed: first.id,
        what: `the group of ${ids.join(', ')}`,
        owner: records.length === 1 ? first.id : null,
      },
      {
        record: recordFields(first),
        context: contexts[0],
        records: records.map((record, index) => ({ ...recordFields(record), context: contexts[index] })),
      },
      {
        labelledMedia: records.map((record) => ({
          label: `Files of ${record.id}:`,
          media: this.mediaOf(record),
        })),
        responseJsonSchema: groupResponseSchema(this.groupItem, ids),
      },
    );
    this.noteBuilt(composed.bytes, records.length);
    const members: GroupMember[] = [];
    for (const [index, record] of records.entries()) {
      const context = contexts[index];
      members.push({
        recordId: record.id,
        contextDigest: context === null ? null : jsonDigest(context),
        sourceHash: await this.sourceHashOf(record),
      });
    }
    return { key, members, ...composed };
  }

  /**
   * Renders the prompt, builds the request and its batch line under `key`, and keeps the
   * rendered prompt for the inference log (beside `owner`, the record whose own request it is, if
   * any). A template or media failure is `blamed`'s RecordRequestError, naming `what`; a failed
   * upload that may succeed later is rethrown (not the record's fault: it must not dead-letter it).
   */
  private async compose(
    who: { key: string; blamed: string; what: string; owner: string | null },
    vars: PromptVariables,
    parts: Pick<BuildModelRequestInput, 'media' | 'labelledMedia' | 'responseJsonSchema'>,
  ): Promise<{
    request: ModelRequest;
    promptHash: string;
    estimatedTokens: number;
    line: string;
    bytes: number;
  }> {
    let rendered;
    try {
      rendered = this.options.prompt.render(vars);
    } catch (error) {
      throw new RecordRequestError(
        who.blamed,
        `Prompt rendering failed for ${who.what}: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
    // Nothing of the record would reach the model (an empty template, or only fields that are
    // empty): the request would be billed for an answer to the system instruction alone.
    if (isBlank(rendered.text) && !hasMedia(parts)) {
      const { name, version } = this.options.prompt;
      throw new RecordRequestError(
        who.blamed,
        `Prompt ${name}/${version} renders empty text for ${who.what}, which has no media: the model would be asked nothing, so nothing is sent. Write the template, or fill the fields it prints.`,
      );
    }
    let request: ModelRequest;
    try {
      request = await buildModelRequest({
        promptText: rendered.text,
        systemText: rendered.system,
        generationConfig: this.options.generationConfig,
        uploads: this.options.uploads,
        ...parts,
      });
    } catch (error) {
      if (isTransientUploadFailure(error)) throw error;
      throw new RecordRequestError(
        who.blamed,
        `Cannot build the request for ${who.what}: ${describeError(error)}`,
        {
          cause: error,
        },
      );
    }
    const line = toBatchFileLine(who.key, request);
    await this.options.archive?.rememberPrompt(rendered.hash, rendered.system, rendered.text, who.owner);
    return {
      request,
      promptHash: rendered.hash,
      estimatedTokens: Math.ceil(estimateTokens(request) * this.options.tokenScale()),
      line,
      bytes: Buffer.byteLength(line) + 1,
    };
  }

  private noteBuilt(bytes: number, records: number): void {
    this.recordsBuilt += records;
    const window = Math.min(this.recordsBuilt, MEAN_WINDOW_RECORDS);
    this.meanBytes += ((bytes / records - this.meanBytes) * records) / window;
  }

  /** The record's media, each to be read only inside the media root. */
  private mediaOf(record: StoredRecord): MediaInput[] {
    const root = this.options.mediaRoot;
    return root === undefined ? record.media : record.media.map((media) => ({ ...media, confinedTo: root }));
  }

  private async sourceHashOf(record: StoredRecord): Promise<string | null> {
    return (await this.options.contentHasher?.hash(record)) ?? null;
  }

  private async contextFor(record: StoredRecord): Promise<unknown> {
    const predecessorId = record.predecessorId;
    if (predecessorId === null) return null;
    const cache = this.roundContexts;
    if (cache?.has(predecessorId)) return cache.get(predecessorId);
    const document = await this.options.outputs.read(predecessorId, record.predecessorOutput ?? null);
    if (!document) throw new MissingContextError(record.id, predecessorId);
    const context = this.extractedContext(record, predecessorId, document.output);
    // The round may have ended while the file was read: only the live round's map is filled.
    if (cache && cache === this.roundContexts && cache.size < ROUND_CONTEXT_CACHE_LIMIT)
      cache.set(predecessorId, context);
    return context;
  }

  /**
   * The hook's context for `record`. The hook is user code: when it throws, that record alone cannot
   * be built (it is dead-lettered as any unbuildable record), not the run; its message may quote the
   * whole output, so it is capped.
   */
  private extractedContext(record: StoredRecord, predecessorId: string, output: unknown): unknown {
    try {
      return this.options.extractContext(output);
    } catch (error) {
      throw new RecordRequestError(
        record.id,
        `extractContext failed for ${record.id} on the output of ${predecessorId}: ${describeError(error)}`,
      );
    }
  }
}

/** Network, quota and server errors, a bad key, an incomplete or slow upload; a rejected (400), too large (413) or unprocessable file is the record's. */
function isTransientUploadFailure(error: unknown): boolean {
  // A file Google failed to process will fail again: that record is unbuildable, not the run.
  if (error instanceof MediaUploadError) return error.code !== 'MEDIA_PROCESSING_FAILED';
  // A body too large is refused at every try too (the uploader names the file and its size).
  return (
    GeminiApiError.isInstance(error) &&
    error.code !== 'INVALID_ARGUMENT' &&
    error.code !== 'PAYLOAD_TOO_LARGE'
  );
}

/** What a prompt sees of a record: its fields, and its id, chain and position. */
function recordFields(record: StoredRecord): Record<string, unknown> {
  return { ...record.vars, id: record.id, chain: record.chainId, position: record.position };
}

/**
 * How many of a built request's estimated input tokens are audio, which Google bills at the model's
 * audio rate: its audio as estimated, never more than the (calibrated) estimate of the whole.
 */
export function estimatedAudioTokens(built: { request: ModelRequest; estimatedTokens: number }): number {
  return Math.min(built.estimatedTokens, estimateTokenShares(built.request).audioTokens);
}

/** Whether a request carries any media file (its own, or a grouped record's). */
function hasMedia(parts: Pick<BuildModelRequestInput, 'media' | 'labelledMedia'>): boolean {
  return (parts.media?.length ?? 0) > 0 || (parts.labelledMedia ?? []).some((item) => item.media.length > 0);
}
