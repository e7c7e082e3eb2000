import type { Lane } from '../lanes/lane.js';
import { costOf, GEMINI_PRICE_LIST, type BilledTokens, type PriceList } from '../pricing/index.js';
import type { InferenceEvent } from '../store/event-log.js';
import { redact, redactValue } from '../secrets/redact.js';

/** What an executor (any lane) knows about one settled attempt; the factory turns it into an event. */
export interface AttemptFacts {
  runId: number | null;
  lane: Lane;
  model: string;
  /** The batch job it travelled in (batch lane). */
  job?: { id: string; name: string | null } | null;
  /** Synchronous lanes: the response id; batch: the request key. */
  requestId?: string | null;
  /**
   * How many requests this attempt stands for: 1 (the default), or 0 for every record of a grouped
   * request (`records_per_request`) but the first, whose attempt counts the request once.
   */
  requests?: number;
  record: { id: string; chainId: string | null; position: number | null };
  prompt: { name: string; version: string; hash: string | null };
  contextDigest?: string | null;
  attempt: number;
  /** Epoch ms the request was sent (or its job created) and answered (or its job ended). */
  startedAt?: number | null;
  finishedAt?: number | null;
  usage?: {
    inputTokens: number;
    outputTokens: number;
    thoughtsTokens?: number;
    /** The audio part of inputTokens, priced at the model's audio rate. */
    audioInputTokens?: number;
  } | null;
  finishReason?: string | null;
  /**
   * The requests Google billed for it one by one, when it stands for tries sent again (an answer
   * cut at MAX_TOKENS, an empty one): each is priced on its own at the tier that served it, as
   * Google bills each; `usage` is their sum. Without it, `usage` is priced as one request on `lane`.
   */
  billedRequests?: readonly BilledRequest[];
  /**
   * A call Google may have billed whose tokens never arrived (given up at its timeout, its answer
   * cut off half-way): its cost is unknown (null), not 0, and its token columns hold 0 for want of any.
   */
  costUnknown?: boolean;
  /**
   * The validated output of a success, or of an answer wavebatch could not settle (its output could
   * not be written): kept in the log so a retry applies it rather than buying it again.
   */
  output?: unknown;
  /** Why it failed; absent for a success. */
  failure?: { cause: string; message: string; raw: string | null; error?: unknown };
}

/** One billed request: its tokens, and the service tier that served (and billed) it when the API named it. */
export interface BilledRequest extends BilledTokens {
  /**
   * Where another than the attempt's lane: Google serves a priority request over priority's limit
   * by standard, at standard's price.
   */
  servedBy?: Lane | undefined;
}

export interface AttemptEventFactoryOptions {
  /** Prices of the workload (the config's `pricing:` applied); the built-in list by default. */
  priceList?: PriceList;
  /** Hash of the generation config the requests are sent with (its JSON is in the texts table). */
  generationConfigHash?: string | null;
  now: () => number;
}

/**
 * Builds the one event of an attempt, lane-neutral: priced from its usage, every text redacted,
 * the stack kept for locally raised errors. The runner and the synchronous lanes both use it, so
 * every attempt is logged with the same columns.
 */
export class AttemptEventFactory {
  private readonly priceList: PriceList;
  private readonly generationConfigHash: string | null;
  private readonly startText = new IsoTimeText();
  private readonly finishText = new IsoTimeText();

  constructor(private readonly options: AttemptEventFactoryOptions) {
    this.priceList = options.priceList ?? GEMINI_PRICE_LIST;
    this.generationConfigHash = options.generationConfigHash ?? null;
  }

  /**
   * USD of `requests`, priced as Google (and the emulator's ledger) bill them: request by request
   * (the long-context rate is one request's, never a sum's), each at the tier that served it, the
   * prompt's audio at the audio rate. Null when the price list does not know the model.
   */
  private costOf(facts: AttemptFacts, requests: readonly BilledRequest[]): number | null {
    let usd = 0;
    for (const request of requests) {
      const cost = costOf(this.priceList, facts.model, request.servedBy ?? facts.lane, {
        inputTokens: request.inputTokens,
        outputTokens: request.outputTokens,
        audioInputTokens: request.audioInputTokens ?? 0,
      });
      if (cost === null) return null;
      usd += cost;
    }
    return usd;
  }

  /** The event of a settled attempt. Its `type` is `done` for a success; the store sets a failure's outcome. */
  create(facts: AttemptFacts): InferenceEvent {
    const usage = facts.usage ?? null;
    const inputTokens = usage?.inputTokens ?? 0;
    const outputTokens = usage?.outputTokens ?? 0;
    const costUsd = facts.costUnknown
      ? null
      : usage === null
        ? 0
        : this.costOf(facts, facts.billedRequests ?? [usage]);
    const started = facts.startedAt ?? null;
    const finished = facts.finishedAt ?? null;
    const failure = facts.failure;
    // One literal, every column in emptyEvent's order: an event per record of a million, so no
    // spread copies, and a batch job's start and end (the same for its thousands of records) are
    // turned into text once.
    const event: InferenceEvent = {
      kind: 'attempt',
      type: failure ? 'retry' : 'done',
      at: new Date(this.options.now()).toISOString(),
      runId: facts.runId,
      lane: facts.lane,
      jobId: facts.job?.id ?? null,
      jobName: facts.job?.name ?? null,
      requestId: facts.requestId ?? null,
      recordId: facts.record.id,
      chainId: facts.record.chainId,
      position: facts.record.position,
      model: facts.model,
      promptName: facts.prompt.name,
      promptVersion: facts.prompt.version,
      promptHash: facts.prompt.hash,
      contextDigest: facts.contextDigest ?? null,
      generationConfigHash: this.generationConfigHash,
      attempt: facts.attempt,
      cause: failure?.cause ?? null,
      message: failure ? redact(failure.message) : null,
      raw: failure?.raw ? redact(failure.raw) : null,
      stack: failure?.error instanceof Error && failure.error.stack ? redact(failure.error.stack) : null,
      finishReason: facts.finishReason ?? null,
      inputTokens,
      outputTokens,
      thoughtsTokens: usage?.thoughtsTokens ?? 0,
      costUsd,
      latencyMs: started !== null && finished !== null ? Math.max(0, finished - started) : null,
      startedAt: this.startText.of(started),
      finishedAt: this.finishText.of(finished),
      requests: facts.requests ?? 1,
    };
    if (facts.output !== undefined) event.output = redactValue(facts.output);
    return event;
  }
}

/**
 * The event of an attempt whose valid answer wavebatch could not settle (its output could not be
 * written): the success's event as a failure of `cause`, its output, tokens and cost kept, so the
 * retry applies the answer (keptAnswer) rather than buying it again. The store sets its outcome.
 */
export function unsettledEvent(
  event: InferenceEvent,
  failure: { cause: string; message: string; error: unknown },
): InferenceEvent {
  const stack = failure.error instanceof Error ? (failure.error.stack ?? null) : null;
  return {
    ...event,
    type: 'retry',
    cause: failure.cause,
    message: redact(failure.message),
    raw: null,
    stack: stack === null ? null : redact(stack),
  };
}

/** An epoch time as ISO text, the last one remembered: a batch job's records share their times. */
class IsoTimeText {
  private ms: number | null = null;
  private text: string | null = null;

  of(ms: number | null): string | null {
    if (ms === null) return null;
    if (ms !== this.ms) {
      this.ms = ms;
      this.text = new Date(ms).toISOString();
    }
    return this.text;
  }
}

/** A record that could not be sent at all (its prompt failed to render, it can never fit a job). */
export interface RejectionFacts {
  runId: number | null;
  lane: Lane;
  model: string;
  record: { id: string; chainId: string; position: number };
  prompt: { name: string; version: string };
  attempt: number;
  cause: string;
  message: string;
  error?: unknown;
}

/** The `record`/`rejected` event of a record that could not be sent. */
export function rejectionEvent(facts: RejectionFacts, now: number): InferenceEvent {
  const stack = facts.error instanceof Error ? (facts.error.stack ?? null) : null;
  return {
    ...emptyEvent('record', 'rejected', now, facts.runId, facts.lane),
    recordId: facts.record.id,
    chainId: facts.record.chainId,
    position: facts.record.position,
    model: facts.model,
    promptName: facts.prompt.name,
    promptVersion: facts.prompt.version,
    attempt: facts.attempt,
    cause: facts.cause,
    message: redact(facts.message),
    stack: stack === null ? null : redact(stack),
  };
}

/** An event with every optional column empty. */
export function emptyEvent(
  kind: InferenceEvent['kind'],
  type: string,
  now: number,
  runId: number | null,
  lane: Lane,
): InferenceEvent {
  return {
    kind,
    type,
    at: new Date(now).toISOString(),
    runId,
    lane,
    jobId: null,
    jobName: null,
    requestId: null,
    recordId: null,
    chainId: null,
    position: null,
    model: null,
    promptName: null,
    promptVersion: null,
    promptHash: null,
    contextDigest: null,
    generationConfigHash: null,
    attempt: null,
    cause: null,
    message: null,
    raw: null,
    stack: null,
    finishReason: null,
    inputTokens: 0,
    outputTokens: 0,
    thoughtsTokens: 0,
    costUsd: null,
    latencyMs: null,
    startedAt: null,
    finishedAt: null,
    requests: null,
  };
}
