import type { LoadedConfig } from '../config/index.js';
import {
  estimateTokens,
  estimateTokenShares,
  type GeminiClient,
  type MediaUploads,
  type ModelRequest,
} from '../gemini/index.js';
import { LANES, SYNC_LANES, type Lane } from '../lanes/lane.js';
import { estimatedTokensOf, readContentFacts, timedMediaKind } from '../media/index.js';
import { OutputStore, type OutputDocument, type OutputSink } from '../outputs/index.js';
import {
  batchRecordsAtOnce,
  configuredPriceList,
  modelLimits,
  modelPrices,
  requestCost,
  tierCappedBatchCaps,
  type ModelPrices,
} from '../pricing/index.js';
import { loadPrompt } from '../prompts/index.js';
import { jsonSchemaForModel } from '../results/index.js';
import { QUICK_RETRY, withRetry } from '../retry.js';
import { RecordRequestBuilder } from '../runner/record-request.js';
import { trackerOf } from '../runner/latency-history.js';
import { contextExtractor, defaultClient } from '../runner/workload-session.js';
import {
  LatencyTracker,
  projectAuto,
  projectBatch,
  projectSync,
  type LaneCapacities,
  type Projection,
  type WorkloadShape,
} from '../scheduler/index.js';
import type { StoredRecord } from '../store/store.js';
import { systemClock, type RunnerClock } from '../clock.js';
import { mediaRootOf, openSource, RepeatFinder, type WorkloadRecord } from '../workload/index.js';

/**
 * `wavebatch estimate`: what a workload will cost and take on each lane, before it runs. Streams the
 * source twice (once for the chains and a calibration sample, once to build and price every
 * request), so memory holds one counter per chain, never the workload.
 */

/** Output tokens per request assumed when nothing better is known. */
export const DEFAULT_OUTPUT_TOKENS = 500;
/** Finished outputs read to learn output and context sizes. */
const FINISHED_SAMPLE = 200;

export interface EstimateOptions {
  /** Requests sampled for countTokens calibration of the input estimate; 0 (default) for none. */
  calibrate?: number;
  /** Output tokens per request (thinking included), instead of what finished records suggest. */
  outputTokens?: number;
  /** The API client for calibration; from the config by default. */
  gemini?: GeminiClient;
  /** For the calibration sample and retries; default Math.random. */
  random?: () => number;
  clock?: RunnerClock;
  /** Batch turnarounds already measured for this workload (ms), added to `latency`'s. */
  batchTurnarounds?: readonly number[];
  /**
   * Latencies earlier runs of this workload measured, per lane (ms): what a run seeds its own
   * planning with; the priors alone by default.
   */
  latencies?: Partial<Record<Lane, readonly number[]>>;
  /** The workload's outputs (either sink); the output folder read as files by default. */
  outputs?: Pick<OutputSink, 'documents'>;
  /** Only these records are estimated (a selection's, for `run --dry-run`); every record by default. */
  include?: (record: WorkloadRecord) => boolean;
}

/** Where a token figure comes from. */
export type TokenSource =
  | { kind: 'local' }
  | { kind: 'calibrated'; samples: number; ratio: number }
  | { kind: 'option' }
  | { kind: 'finished'; samples: number }
  | { kind: 'default' };

/** One way of running the workload: its cost and its time. */
export interface LaneEstimate extends Projection {
  /** USD, or null when the model has no price (add it under `pricing:`). */
  costUsd: number | null;
}

/** What `wavebatch estimate` reports (also its `--json` shape). */
export interface WorkloadEstimate {
  workload: string;
  model: string;
  priceListAsOf: string;
  records: number;
  chains: number;
  longestChain: number;
  /** `execution.records_per_request`: records sent in one batch request (the token figures are per record). */
  recordsPerRequest: number;
  tokens: {
    input: number;
    output: number;
    inputPerRequest: number;
    outputPerRequest: number;
    /** Tokens of the predecessor's output in the prompt of a record that has one. */
    contextPerRequest: number;
    inputSource: TokenSource;
    outputSource: TokenSource;
  };
  /** batch, flex, standard, priority: all records on that lane; auto: as the scheduler splits them. */
  modes: Record<Lane | 'auto', LaneEstimate>;
}

/** Estimates a workload's requests, tokens, cost per lane and time per mode. */
export async function estimateWorkload(
  config: LoadedConfig,
  options: EstimateOptions = {},
): Promise<WorkloadEstimate> {
  const random = options.random ?? Math.random;
  const prices = configuredPriceList(config);
  const modelPrice = modelPrices(prices, config.model.name);
  const outputs = options.outputs ?? new OutputStore(config.outputs);
  const extractContext = contextExtractor(config);
  // The one finished output later records are rendered with, once it is known.
  let typical: OutputDocument | null = null;
  const mediaRoot = mediaRootOf(config);
  const builder = new RecordRequestBuilder({
    ...(mediaRoot !== undefined ? { mediaRoot } : {}),
    prompt: await loadPrompt(config.prompt.dir, config.prompt.name, config.prompt.version),
    outputs: { read: async (id) => (typical?.id === id ? typical : null) },
    extractContext,
    generationConfig: config.model.generation_config,
    responseJsonSchema:
      config.model.response_schema === undefined
        ? undefined
        : jsonSchemaForModel(config.model.response_schema),
    tokenScale: () => 1,
    uploads: estimateUploads(config.execution.media_upload_bytes),
    recordsPerRequest: config.execution.records_per_request,
  });
  // Pass 1 fills `chains`; a record after its chain's first gets a predecessor's output as context.
  const chains = new Map<string, { length: number; first: number }>();
  let contextFrom: string | null = null;
  const hasPredecessor = (record: WorkloadRecord) => {
    const chain = chains.get(record.chainId);
    return chain !== undefined && record.position > chain.first;
  };
  const buildRecord = (record: WorkloadRecord) =>
    builder.build(asStored(record, hasPredecessor(record) ? contextFrom : null));
  const build = async (record: WorkloadRecord): Promise<ModelRequest> => (await buildRecord(record)).request;

  // Pass 1: chains (length and first position) and a uniform sample for calibration.
  const include = options.include ?? (() => true);
  // Whole chains say which record has a predecessor; the included records' chains give the shape.
  const included = new Map<string, number>();
  const sampleSize = Math.max(0, Math.floor(options.calibrate ?? 0));
  const sample: WorkloadRecord[] = [];
  let records = 0;
  // A repeated id or position is refused as the run's sync refuses it: priced, it was a workload
  // the run would never send.
  const repeats = new RepeatFinder();
  for await (const record of openSource(config)) {
    await repeats.check(record, () => openSource(config));
    const chain = chains.get(record.chainId);
    if (chain) {
      chain.length += 1;
      chain.first = Math.min(chain.first, record.position);
    } else chains.set(record.chainId, { length: 1, first: record.position });
    if (!include(record)) continue;
    records += 1;
    included.set(record.chainId, (included.get(record.chainId) ?? 0) + 1);
    // Reservoir sampling: every record equally likely, one pass, fixed memory.
    if (sample.length < sampleSize) sample.push(record);
    else if (sampleSize > 0) {
      const slot = Math.floor(random() * records);
      if (slot < sampleSize) sample[slot] = record;
    }
  }

  const finished = await finishedFacts(outputs, extractContext);
  const outputPerRequest = options.outputTokens ?? finished?.outputTokens ?? defaultOutputTokens(config);
  const outputSource: TokenSource =
    options.outputTokens !== undefined
      ? { kind: 'option' }
      : finished
        ? { kind: 'finished', samples: finished.samples }
        : { kind: 'default' };
  // With finished records, later records are rendered with a typical one's output as their context
  // (the template's framing included); without, the context is sized like an output and added.
  contextFrom = finished?.typical.id ?? null;
  typical = finished?.typical ?? null;
  const contextPerRequest = finished?.contextTokens ?? outputPerRequest;
  const contextAllowance = contextFrom === null ? contextPerRequest : 0;

  const calibration =
    sample.length > 0 ? await calibrate(sample, build, config, options, random) : { ratio: 1, samples: 0 };
  const inputSource: TokenSource =
    calibration.samples > 0 ? { kind: 'calibrated', ...calibration } : { kind: 'local' };

  // Pass 2: every request built (with no predecessor output) and priced on every lane; grouped
  // requests (records_per_request) are built as the batch lane sends them (below).
  let inputTokens = 0;
  const cost = Object.fromEntries(LANES.map((lane) => [lane, 0])) as Record<Lane, number>;
  const perRequest = config.execution.records_per_request;
  // Input tokens as billed: the calibrated estimate plus the context allowance, the audio among them
  // (counted from its length, as Google counts it) priced at the model's audio rate.
  const tokensOf = (request: ModelRequest, records: readonly WorkloadRecord[]): InputTokens => {
    const shares = estimateTokenShares(request);
    const input =
      Math.ceil(shares.tokens * calibration.ratio) + records.filter(hasPredecessor).length * contextAllowance;
    return { input, audio: Math.min(shares.audioTokens, input) };
  };
  // Bytes of the batch lane's request lines: a job holds only so many (`max_job_bytes`).
  let requestBytes = 0;
  const addRequest = async (members: WorkloadRecord[]) => {
    if (members.length === 1) {
      const built = await buildRecord(members[0] as WorkloadRecord);
      const input = tokensOf(built.request, members);
      inputTokens += input.input;
      requestBytes += built.bytes;
      if (modelPrice) addCosts(cost, modelPrice, input, outputPerRequest, LANES);
      return;
    }
    const group = await builder.buildGroup(
      members.map((record) => asStored(record, hasPredecessor(record) ? contextFrom : null)),
      'estimate',
    );
    const input = tokensOf(group.request, members);
    inputTokens += input.input;
    requestBytes += group.bytes;
    if (!modelPrice) return;
    addCosts(cost, modelPrice, input, outputPerRequest * members.length, ['batch']);
    // The synchronous lanes send each record as a group of one: the instructions once per record.
    for (const record of members)
      addCosts(cost, modelPrice, tokensOf(await build(record), [record]), outputPerRequest, SYNC_LANES);
  };
  // The batch lane groups records that are ready at once, and a chain's next record is ready only
  // once its predecessor is done: a group never holds two records of one chain. So records are
  // grouped by their step in their chain (its first included record is step 0), in source order
  // within a step; memory holds a counter per chain and an unfilled group per step.
  const steps = new Map<string, number>();
  const pendingByStep = new Map<number, WorkloadRecord[]>();
  for await (const record of openSource(config)) {
    if (!include(record)) continue;
    if (perRequest <= 1) {
      await addRequest([record]);
      continue;
    }
    const step = steps.get(record.chainId) ?? 0;
    steps.set(record.chainId, step + 1);
    const pending = pendingByStep.get(step) ?? [];
    pending.push(record);
    if (pending.length < perRequest) {
      pendingByStep.set(step, pending);
      continue;
    }
    pendingByStep.delete(step);
    await addRequest(pending);
  }
  for (const pending of pendingByStep.values()) await addRequest(pending);

  const chainLengths = new Map<number, number>();
  for (const length of included.values()) chainLengths.set(length, (chainLengths.get(length) ?? 0) + 1);
  const shape: WorkloadShape = {
    records,
    chainLengths,
    inputTokensPerRequest: records > 0 ? inputTokens / records : 0,
  };
  const modes = projectModes(
    config,
    shape,
    modelPrice ? cost : null,
    trackerOf(options.latencies ?? {}),
    options.batchTurnarounds ?? [],
  );
  let longestChain = 0;
  for (const length of chainLengths.keys()) longestChain = Math.max(longestChain, length);
  return {
    workload: config.name,
    model: config.model.name,
    priceListAsOf: prices.asOf,
    records,
    chains: included.size,
    longestChain,
    recordsPerRequest: perRequest,
    tokens: {
      input: inputTokens,
      output: outputPerRequest * records,
      inputPerRequest: shape.inputTokensPerRequest,
      outputPerRequest,
      contextPerRequest,
      inputSource,
      outputSource,
    },
    modes,
  };

  function projectModes(
    loaded: LoadedConfig,
    workload: WorkloadShape,
    costs: Record<Lane, number> | null,
    tracker: LatencyTracker,
    turnarounds: readonly number[],
  ): Record<Lane | 'auto', LaneEstimate> {
    const limits = modelLimits(prices, loaded.model.name);
    // The caps the runner submits within, so the batch lane is projected as it will run.
    const capacity: LaneCapacities = {
      batchRequestsInFlight: batchRecordsAtOnce(
        tierCappedBatchCaps(loaded.execution, loaded.model.name, prices),
        {
          maxRequestsPerJob: loaded.execution.max_requests_per_job,
          recordsPerRequest: loaded.execution.records_per_request,
          maxJobBytes: loaded.execution.max_job_bytes,
        },
        {
          inputTokens: workload.inputTokensPerRequest,
          bytes: workload.records > 0 ? requestBytes / workload.records : 0,
        },
      ),
      sync: { flex: limits.flex, standard: limits.standard, priority: limits.priority },
      syncConcurrency: loaded.execution.sync_concurrency,
    };
    for (const ms of turnarounds) tracker.observe('batch', ms);
    const latency = tracker.estimates();
    const priced = (projection: Projection, usd: number | null): LaneEstimate => ({
      ...projection,
      costUsd: usd,
    });
    const sync = Object.fromEntries(
      SYNC_LANES.map((lane) => [
        lane,
        priced(
          projectSync(workload, capacity.sync[lane], latency[lane], lane, capacity.syncConcurrency),
          costs?.[lane] ?? null,
        ),
      ]),
    ) as Record<(typeof SYNC_LANES)[number], LaneEstimate>;
    const auto = projectAuto(workload, capacity, latency);
    const autoCost =
      costs && workload.records > 0
        ? LANES.reduce(
            (sum, lane) => sum + ((auto.recordsByLane[lane] ?? 0) / workload.records) * costs[lane],
            0,
          )
        : costs
          ? 0
          : null;
    return {
      batch: priced(projectBatch(workload, capacity, latency.batch), costs?.batch ?? null),
      ...sync,
      auto: priced(auto, autoCost),
    };
  }
}

/** One request's estimated input tokens, and how many of them are audio. */
interface InputTokens {
  input: number;
  audio: number;
}

/** Adds one request's cost on `lanes`, priced as the emulator's ledger and Google bill it (`requestCost`). */
function addCosts(
  cost: Record<Lane, number>,
  prices: ModelPrices,
  tokens: InputTokens,
  output: number,
  lanes: readonly Lane[],
): void {
  for (const lane of lanes)
    cost[lane] += requestCost(prices[lane], {
      inputTokens: tokens.input,
      outputTokens: output,
      audioInputTokens: tokens.audio,
    });
}

/** A record as the request builder takes it, with `predecessorId` standing in for its real predecessor. */
function asStored(record: WorkloadRecord, predecessorId: string | null): StoredRecord {
  return { ...record, predecessorId, status: 'ready', attempts: 0, jobId: null, remaining: 1 };
}

/**
 * Media above the upload threshold are not uploaded for an estimate: the request gets a stand-in
 * reference, counted as the uploader counts it (a PDF by its pages, an image by its size in tiles,
 * audio and video by their length).
 */
function estimateUploads(minBytes: number): MediaUploads {
  return {
    minBytes,
    fileFor: async (media) => {
      // Other types' count does not depend on their content: they are not read for nothing.
      const counted =
        media.mimeType === 'application/pdf' ||
        media.mimeType.startsWith('image/') ||
        timedMediaKind(media.mimeType) !== undefined;
      const estimated = counted
        ? estimatedTokensOf(await readContentFacts(media.path, media.mimeType, media.confinedTo))
        : undefined;
      return {
        fileUri: `estimate://${media.path}`,
        mimeType: media.mimeType,
        ...(estimated !== undefined ? { estimatedTokens: estimated } : {}),
      };
    },
  };
}

/** Without evidence: the configured output cap when smaller than the default guess. */
function defaultOutputTokens(config: LoadedConfig): number {
  const cap =
    config.model.generation_config.max_output_tokens ?? config.model.generation_config.maxOutputTokens;
  return typeof cap === 'number' && cap > 0 ? Math.min(cap, DEFAULT_OUTPUT_TOKENS) : DEFAULT_OUTPUT_TOKENS;
}

/**
 * Mean billed output tokens and context size of (up to 200) finished records, and the one whose
 * context is closest to the mean (to render later records with); null when none is finished.
 */
async function finishedFacts(
  outputs: Pick<OutputSink, 'documents'>,
  extractContext: (output: unknown) => unknown,
): Promise<{ samples: number; outputTokens: number; contextTokens: number; typical: OutputDocument } | null> {
  const contexts: Array<{ document: OutputDocument; tokens: number }> = [];
  let output = 0;
  try {
    for await (const document of outputs.documents()) {
      output += document.meta.usage.outputTokens;
      contexts.push({
        document,
        tokens: Math.ceil((JSON.stringify(extractContext(document.output)) ?? '').length / 4),
      });
      if (contexts.length >= FINISHED_SAMPLE) break;
    }
  } catch {
    // A corrupt output ends the sample: an estimate reads what it can.
  }
  const samples = contexts.length;
  if (samples === 0) return null;
  const mean = contexts.reduce((sum, context) => sum + context.tokens, 0) / samples;
  const typical = contexts.reduce((best, context) =>
    Math.abs(context.tokens - mean) < Math.abs(best.tokens - mean) ? context : best,
  );
  return {
    samples,
    outputTokens: Math.round(output / samples),
    contextTokens: Math.round(mean),
    typical: typical.document,
  };
}

/**
 * Counts the sample's tokens with the API (countTokens is free) and returns billed / estimated.
 * A request's uploaded files are left out of both counts (the estimate does not upload them, and
 * counts them as the uploader does), not the request: a workload of scans above the upload
 * threshold is calibrated on its prompts, not left uncalibrated.
 */
async function calibrate(
  sample: readonly WorkloadRecord[],
  build: (record: WorkloadRecord) => Promise<ModelRequest>,
  config: LoadedConfig,
  options: EstimateOptions,
  random: () => number,
): Promise<{ ratio: number; samples: number }> {
  const gemini = options.gemini ?? defaultClient(config);
  const clock = options.clock ?? systemClock;
  let estimated = 0;
  let counted = 0;
  let samples = 0;
  for (const record of sample) {
    const request = withoutUploadedFiles(await build(record));
    const tokens = await withRetry(() => gemini.countTokens(config.model.name, request), QUICK_RETRY, {
      clock,
      random,
    });
    estimated += estimateTokens(request);
    counted += tokens;
    samples += 1;
  }
  return samples > 0 && estimated > 0 ? { ratio: counted / estimated, samples } : { ratio: 1, samples: 0 };
}

/** The request without its fileData parts and their planned count: what countTokens can count unuploaded. */
function withoutUploadedFiles(request: ModelRequest): ModelRequest {
  if (request.fileTokens === undefined) return request;
  const { fileTokens: _files, fileAudioTokens: _audio, ...rest } = request;
  return {
    ...rest,
    contents: request.contents.map((content) => ({
      ...content,
      parts: (content.parts ?? []).filter((part) => part.fileData === undefined),
    })),
  };
}
